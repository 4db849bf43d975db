// Finding a field's offset in block-style YAML by indentation, without parsing the whole text.
//
// The `yaml` package takes 12 s or more to parse a 21 MB GlobalNetworkSet, which is too long to wait
// for the line number of one typo. Generated manifests that big are plain block YAML (keys, "- "
// items, plain or quoted scalars, one-line flow collections), and in that subset a field can be
// found by counting indentation. Anything outside it (anchors, tags, block scalars, explicit keys,
// multi-line flow collections, tabs, empty values on the path) makes this return undefined, and the
// caller asks `yaml` instead. Tests check it against `yaml` on every path of their manifests.
import { FieldPath } from './issues';

class Unsupported extends Error {}

const SPACE = 32;
const TAB = 9;
const CR = 13;
/** Characters that start a node this scanner does not follow. */
const UNSUPPORTED_START = '&*!|>?%@`';

export class BlockYaml {
  /** Item offsets of each block sequence walked so far, by the offset of its first item. */
  private readonly sequences = new Map<number, number[]>();
  private starts?: number[];

  constructor(readonly text: string) {}

  lineStart(pos: number): number {
    return this.text.lastIndexOf('\n', pos - 1) + 1;
  }

  lineEnd(pos: number): number {
    const nl = this.text.indexOf('\n', pos);
    let end = nl < 0 ? this.text.length : nl;
    if (end > pos && this.text.charCodeAt(end - 1) === CR) end--;
    return end;
  }

  /** Offset of the first non-space character of the line at `lineStart`; tabs are refused. */
  contentStart(lineStart: number): number {
    let i = lineStart;
    while (this.text.charCodeAt(i) === SPACE) i++;
    if (this.text.charCodeAt(i) === TAB) throw new Unsupported();
    return i;
  }

  /** Whether [pos, end of line) holds nothing but spaces and maybe a comment. */
  restIsEmpty(pos: number): boolean {
    const end = this.lineEnd(pos);
    let i = pos;
    while (i < end && (this.text.charCodeAt(i) === SPACE || this.text.charCodeAt(i) === TAB)) i++;
    return i === end || this.text[i] === '#';
  }

  /** The next line holding content (not blank, not a comment), from the line starting at `from`. */
  nextContent(from: number): number | undefined {
    for (let line = from; line < this.text.length; ) {
      const at = this.contentStart(line);
      if (!this.restIsEmpty(at)) return at;
      const nl = this.text.indexOf('\n', line);
      if (nl < 0) return undefined;
      line = nl + 1;
    }
    return undefined;
  }

  /** The next content line after the one containing `pos`. */
  nextContentAfter(pos: number): number | undefined {
    const nl = this.text.indexOf('\n', pos);
    return nl < 0 ? undefined : this.nextContent(nl + 1);
  }

  column(pos: number): number {
    return pos - this.lineStart(pos);
  }

  isSequenceItem(pos: number): boolean {
    if (this.text[pos] !== '-') return false;
    const next = this.text.charCodeAt(pos + 1);
    return pos + 1 >= this.text.length || next === SPACE || next === 10 || next === CR;
  }

  /** `key:` at pos: the key text and where its value may start; undefined for a scalar. */
  mappingKey(pos: number): { key: string; after: number } | undefined {
    const text = this.text;
    const end = this.lineEnd(pos);
    let key: string;
    let i: number;
    const q = text[pos];
    if (q === '"' || q === "'") {
      i = this.quotedEnd(pos, end);
      if (i < 0) return undefined;
      key = this.unquote(pos, i);
      while (i < end && text.charCodeAt(i) === SPACE) i++;
      if (text[i] !== ':') return undefined;
    } else {
      if (UNSUPPORTED_START.includes(q)) throw new Unsupported();
      if (q === '[' || q === '{') return undefined;
      // Scan this line only: a plain key ends at ": " (or ":" at the end); " #" starts a comment.
      for (i = pos; ; i++) {
        if (i >= end) return undefined;
        const c = text[i];
        if (c === '#' && text[i - 1] === ' ') return undefined;
        if (c !== ':') continue;
        const next = text.charCodeAt(i + 1);
        if (i + 1 === end || next === SPACE || next === TAB) break;
      }
      key = text.slice(pos, i).trimEnd();
    }
    return { key, after: i + 1 };
  }

  /** The offset just past the quoted scalar at pos, or -1 if it does not close on this line. */
  quotedEnd(pos: number, end: number): number {
    const q = this.text[pos];
    for (let i = pos + 1; i < end; i++) {
      const c = this.text[i];
      if (q === '"' && c === '\\') i++;
      else if (c === q) {
        if (q === "'" && this.text[i + 1] === "'") i++;
        else return i + 1;
      }
    }
    return -1;
  }

  unquote(start: number, end: number): string {
    const raw = this.text.slice(start, end);
    if (raw[0] === "'") return raw.slice(1, -1).replace(/''/g, "'");
    try {
      return JSON.parse(raw) as string;
    } catch {
      throw new Unsupported(); // a YAML-only escape such as \x41
    }
  }

  /** Offset of path[i..] inside the node starting at pos. */
  resolve(pos: number, path: FieldPath, i: number, atKey: boolean): number {
    const c = this.text[pos];
    // yaml places a node after its anchor or tag; follow neither.
    if (UNSUPPORTED_START.includes(c)) throw new Unsupported();
    if (i === path.length) return pos;
    if (this.isSequenceItem(pos)) return this.inSequence(pos, path, i, atKey);
    if (c === '[' || c === '{') return new FlowLine(this, pos).resolve(pos, path, i, atKey);
    if (this.mappingKey(pos)) return this.inMapping(pos, path, i, atKey);
    return pos; // a scalar: the path runs out here
  }

  /** The node that is the value after `after` (same line, or the next, deeper lines). */
  valueStart(after: number, indent: number, sequenceAtIndent: boolean): number {
    let i = after;
    while (this.text.charCodeAt(i) === SPACE) i++;
    if (!this.restIsEmpty(i)) return i;
    const next = this.nextContentAfter(i);
    if (next === undefined) throw new Unsupported();
    const col = this.column(next);
    if (col > indent || (sequenceAtIndent && col === indent && this.isSequenceItem(next))) return next;
    throw new Unsupported(); // an empty value
  }

  inMapping(first: number, path: FieldPath, i: number, atKey: boolean): number {
    const indent = this.column(first);
    const seg = String(path[i]);
    for (let at: number | undefined = first; at !== undefined; at = this.nextSibling(at, indent, false)) {
      const entry = this.mappingKey(at);
      if (!entry) break;
      if (entry.key !== seg) continue;
      if (atKey && i === path.length - 1) return at;
      return this.resolve(this.valueStart(entry.after, indent, true), path, i + 1, atKey);
    }
    return first;
  }

  inSequence(first: number, path: FieldPath, i: number, atKey: boolean): number {
    const seg = path[i];
    const items = this.sequenceItems(first);
    if (typeof seg !== 'number' || seg >= items.length) return first;
    return this.resolve(this.valueStart(items[seg] + 1, this.column(first), false), path, i + 1, atKey);
  }

  /** Offsets of all items of the block sequence whose first item is at `first` (cached). */
  private sequenceItems(first: number): number[] {
    let items = this.sequences.get(first);
    if (!items) {
      items = [];
      const indent = this.column(first);
      for (let at: number | undefined = first; at !== undefined; at = this.nextSibling(at, indent, true)) items.push(at);
      this.sequences.set(first, items);
    }
    return items;
  }

  /**
   * The next entry of a block collection at `indent` after the one at `at`: deeper lines belong to
   * the current entry; a shallower line, or a line of the wrong sort, ends the collection.
   */
  nextSibling(at: number, indent: number, sequence: boolean): number | undefined {
    for (let next = this.nextContentAfter(at); next !== undefined; next = this.nextContentAfter(next)) {
      const col = this.column(next);
      if (col > indent) continue;
      if (col < indent) return undefined;
      // A mapping's value may be a sequence at the key's own indentation ("key:\n- a").
      if (!sequence && this.isSequenceItem(next)) continue;
      return sequence === this.isSequenceItem(next) ? next : undefined;
    }
    return undefined;
  }

  /** Start offsets of the documents' first content, counting only non-empty documents (cached). */
  documentStarts(): number[] {
    if (this.starts) return this.starts;
    const text = this.text;
    const starts: number[] = [];
    let open = true;
    for (let line = 0; line < text.length; ) {
      const nl = text.indexOf('\n', line);
      const next = nl < 0 ? text.length : nl + 1;
      if (text[line] === '%') throw new Unsupported(); // directives
      if (/^(---|\.\.\.)([ \t\r\n]|$)/.test(text.slice(line, line + 4))) {
        if (!this.restIsEmpty(line + 3)) throw new Unsupported(); // content on the marker line
        open = true;
      } else if (open) {
        const at = this.contentStart(line);
        if (!this.restIsEmpty(at)) {
          // A root that is a lone scalar ("~") is an empty document to the decoders; a flow root
          // or an indented one is outside this scanner's subset.
          if (this.column(at) !== 0 || (!this.isSequenceItem(at) && !this.mappingKey(at))) throw new Unsupported();
          starts.push(at);
          open = false;
        }
      }
      line = next;
    }
    this.starts = starts;
    return starts;
  }

  /**
   * The offset of `path` in document `index` (counting non-empty documents), as `yaml` would give
   * it; undefined when the text leaves the subset this scanner follows.
   */
  locate(index: number, path: FieldPath, atKey = false): number | undefined {
    try {
      const start = this.documentStarts()[index];
      return start === undefined ? undefined : this.resolve(start, path, 0, atKey);
    } catch (err) {
      if (err instanceof Unsupported) return undefined;
      throw err;
    }
  }
}

/** A flow collection that opens and closes on one line: `[a, "b"]`, `{k: v, n: [1, 2]}`. */
class FlowLine {
  private readonly end: number;

  constructor(
    private readonly doc: BlockYaml,
    start: number,
  ) {
    this.end = doc.lineEnd(start);
  }

  private get text(): string {
    return this.doc.text;
  }

  private skipSpace(pos: number): number {
    while (pos < this.end && this.text.charCodeAt(pos) === SPACE) pos++;
    return pos;
  }

  /** The offset just past the flow value at pos. */
  private skipValue(pos: number): number {
    const c = this.text[pos];
    if (c === '"' || c === "'") {
      const end = this.doc.quotedEnd(pos, this.end);
      if (end < 0) throw new Unsupported();
      return end;
    }
    if (c === '[' || c === '{') {
      const close = c === '[' ? ']' : '}';
      let i = this.skipSpace(pos + 1);
      while (this.text[i] !== close) {
        i = this.skipSpace(this.skipValue(i));
        if (c === '{') {
          if (this.text[i] !== ':') throw new Unsupported();
          i = this.skipSpace(this.skipValue(this.skipSpace(i + 1)));
        }
        if (this.text[i] === ',') i = this.skipSpace(i + 1);
        else if (this.text[i] !== close) throw new Unsupported();
      }
      return i + 1;
    }
    if (UNSUPPORTED_START.includes(c) || pos >= this.end) throw new Unsupported();
    let i = pos;
    while (i < this.end && !',[]{}'.includes(this.text[i])) {
      if (this.text[i] === ':' && (i + 1 === this.end || ' ,[]{}'.includes(this.text[i + 1]))) break;
      if (this.text[i] === '#' && this.text[i - 1] === ' ') throw new Unsupported();
      i++;
    }
    while (i > pos && this.text.charCodeAt(i - 1) === SPACE) i--;
    return i;
  }

  resolve(pos: number, path: FieldPath, i: number, atKey: boolean): number {
    if (i === path.length) return pos;
    const c = this.text[pos];
    if (c === '[') return this.inSequence(pos, path, i, atKey);
    if (c === '{') return this.inMapping(pos, path, i, atKey);
    return pos;
  }

  private inSequence(start: number, path: FieldPath, i: number, atKey: boolean): number {
    const seg = path[i];
    let at = this.skipSpace(start + 1);
    for (let n = 0; this.text[at] !== ']'; n++) {
      if (at >= this.end) throw new Unsupported();
      const next = this.skipSpace(this.skipValue(at));
      if (this.text[next] === ':') throw new Unsupported(); // a single-pair mapping inside [ ]
      if (n === seg) return this.resolve(at, path, i + 1, atKey);
      if (this.text[next] === ',') at = this.skipSpace(next + 1);
      else if (this.text[next] === ']') break;
      else throw new Unsupported();
    }
    return start;
  }

  private inMapping(start: number, path: FieldPath, i: number, atKey: boolean): number {
    const seg = String(path[i]);
    let at = this.skipSpace(start + 1);
    while (this.text[at] !== '}') {
      if (at >= this.end) throw new Unsupported();
      const keyEnd = this.skipValue(at);
      const raw = this.text.slice(at, keyEnd);
      const key = raw[0] === '"' || raw[0] === "'" ? this.doc.unquote(at, keyEnd) : raw;
      let next = this.skipSpace(keyEnd);
      if (this.text[next] !== ':') throw new Unsupported();
      const valueAt = this.skipSpace(next + 1);
      if (key === seg) return atKey && i === path.length - 1 ? at : this.resolve(valueAt, path, i + 1, atKey);
      next = this.skipSpace(this.skipValue(valueAt));
      if (this.text[next] === ',') at = this.skipSpace(next + 1);
      else if (this.text[next] === '}') break;
      else throw new Unsupported();
    }
    return start;
  }
}
