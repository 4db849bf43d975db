// Finding a field's offset in JSON text by scanning, without building anything: the `yaml` package
// would also locate it, but takes seconds on a 17 MB network set where this takes milliseconds.
// The text is known to be valid JSON (JSON.parse accepted it), so the scanner can stay simple.
import { FieldPath } from './issues';

const QUOTE = 34;
const BACKSLASH = 92;

function skipSpace(text: string, pos: number): number {
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    pos++;
  }
  return pos;
}

/** The offset just past the string that starts at `pos` (its opening quote). */
function skipString(text: string, pos: number): number {
  for (let i = pos + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return text.length;
}

/** The offset just past the value that starts at `pos`. */
function skipValue(text: string, pos: number): number {
  const first = text[pos];
  if (first === '"') return skipString(text, pos);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let i = pos; i < text.length; i++) {
      const c = text[i];
      if (c === '"') i = skipString(text, i) - 1;
      else if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
    }
    return text.length;
  }
  let i = pos;
  while (i < text.length && !',}] \t\r\n'.includes(text[i])) i++;
  return i;
}

/** Offset of the member `key` of the object at `pos` (the last one, as JSON.parse keeps the last). */
function findMember(text: string, pos: number, key: string): { keyAt: number; valueAt: number } | undefined {
  let found: { keyAt: number; valueAt: number } | undefined;
  let i = skipSpace(text, pos + 1);
  while (i < text.length && text[i] === '"') {
    const keyEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    const valueAt = skipSpace(text, skipSpace(text, keyEnd) + 1);
    if (name === key) found = { keyAt: i, valueAt };
    i = skipSpace(text, skipValue(text, valueAt));
    if (text[i] !== ',') break;
    i = skipSpace(text, i + 1);
  }
  return found;
}

/**
 * Locates fields in one JSON text. Element offsets of each array are found once and kept, so a
 * thousand issues in a million-entry list cost one scan, not a thousand.
 */
export class JsonLocator {
  private readonly arrays = new Map<number, number[]>();

  constructor(readonly text: string) {}

  private elements(start: number): number[] {
    let offsets = this.arrays.get(start);
    if (!offsets) {
      const text = this.text;
      offsets = [];
      let i = skipSpace(text, start + 1);
      while (i < text.length && text[i] !== ']') {
        offsets.push(i);
        i = skipSpace(text, skipValue(text, i));
        if (text[i] !== ',') break;
        i = skipSpace(text, i + 1);
      }
      this.arrays.set(start, offsets);
    }
    return offsets;
  }

  /**
   * The offset of `path`; where the path runs out, the deepest existing ancestor. `atKey` gives
   * the member's key rather than its value.
   */
  locate(path: FieldPath, atKey = false): number {
    const text = this.text;
    let pos = skipSpace(text, 0);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (text[pos] === '{') {
        const member = findMember(text, pos, String(seg));
        if (!member) break;
        if (atKey && i === path.length - 1) return member.keyAt;
        pos = member.valueAt;
      } else if (text[pos] === '[' && typeof seg === 'number') {
        const at = this.elements(pos)[seg];
        if (at === undefined) break;
        pos = at;
      } else {
        break;
      }
    }
    return pos;
  }
}
