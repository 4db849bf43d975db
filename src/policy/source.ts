// Turning manifest text into documents, fast, and finding source positions, slowly, only when needed.
//
// Decoding uses JSON.parse when the text is JSON and js-yaml otherwise: on a 21 MB GlobalNetworkSet
// of 1,000,000 nets they take ~0.3 s and ~1.9 s, where the position-keeping `yaml` package takes
// ~12 s (docs/reference performance.md). `yaml` is therefore only run when an issue needs a line and
// column, once per text, and its documents are matched to js-yaml's by index among non-empty ones.
import jsYaml from 'js-yaml';
import { isAlias, isMap, isScalar, isSeq, LineCounter, Node, parseAllDocuments } from 'yaml';
import { FieldPath } from './issues';
import { JsonLocator } from './json-locate';
import { BlockYaml } from './yaml-locate';

export interface SyntaxProblem {
  message: string;
  line?: number;
  column?: number;
}

export interface LineColumn {
  line: number;
  column: number;
}

export interface DecodedText {
  /** The non-empty documents, in order. */
  documents: unknown[];
  /** The text was strict JSON (one document). */
  json: boolean;
  /** Syntax errors; when present, `documents` is empty (nothing from a broken text is used). */
  syntax: SyntaxProblem[];
}

function looksLikeJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    return c === '{' || c === '[';
  }
  return false;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** All syntax errors `yaml` finds, for a text js-yaml refused (js-yaml stops at the first). */
function yamlSyntaxProblems(text: string): SyntaxProblem[] {
  const lineCounter = new LineCounter();
  const problems: SyntaxProblem[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter })) {
    for (const err of doc.errors) {
      const pos = lineCounter.linePos(err.pos[0]);
      // yaml appends " at line L, column C:" and a source excerpt; the position is reported apart.
      const message = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      problems.push({ message, line: pos.line, column: pos.col });
    }
  }
  return problems;
}

export function decodeText(input: string): DecodedText {
  const text = stripBom(input);
  if (looksLikeJson(text)) {
    try {
      const value: unknown = JSON.parse(text);
      return { documents: value === null ? [] : [value], json: true, syntax: [] };
    } catch {
      // Not strict JSON (YAML flow style, say): js-yaml below decodes it or locates the error.
    }
  }
  try {
    const documents = jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA }).filter((d) => d !== null && d !== undefined);
    return { documents, json: false, syntax: [] };
  } catch (err) {
    if (!(err instanceof jsYaml.YAMLException)) throw err;
    const problems = yamlSyntaxProblems(text);
    if (problems.length) return { documents: [], json: false, syntax: problems };
    // The two parsers disagree (rare): report js-yaml's own error and position.
    return { documents: [], json: false, syntax: [{ message: err.reason, line: err.mark.line + 1, column: err.mark.column + 1 }] };
  }
}

/** Line and column (1-based) of offsets in one text, by binary search over line starts found once. */
class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  at(offset: number): LineColumn {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

/** From this size on, block YAML is first scanned by indentation instead of parsed by `yaml`. */
export const FAST_YAML_FROM_BYTES = 1_000_000;

/**
 * Finds the line and column of a field in a text's documents. JSON is scanned directly; YAML is
 * parsed with `yaml` on first use (seconds for a multi-megabyte text, so only on the error path),
 * except that a big block-style text is first tried with the indentation scanner.
 */
export class PositionFinder {
  private documents?: Array<Node | null>;
  private readonly lineCounter = new LineCounter();
  private blockYaml?: BlockYaml;
  private jsonLocator?: JsonLocator;
  private lines?: LineIndex;

  constructor(
    private readonly text: string,
    private readonly json = false,
    private readonly fastYamlFrom = FAST_YAML_FROM_BYTES,
  ) {}

  private lineColumn(text: string, offset: number): LineColumn {
    this.lines ??= new LineIndex(text);
    return this.lines.at(offset);
  }

  private load(): Array<Node | null> {
    if (!this.documents) {
      this.documents = parseAllDocuments(stripBom(this.text), { lineCounter: this.lineCounter })
        .map((d) => d.contents)
        .filter((c) => c !== null && !(isScalar(c) && c.value === null));
    }
    return this.documents;
  }

  /**
   * The position of `path` in document `index` (among non-empty documents). Where the path runs
   * out (a missing field), the deepest existing ancestor is given. `atKey` points at a map key.
   */
  locate(index: number, path: FieldPath, atKey = false): LineColumn | undefined {
    if (this.json) {
      if (index !== 0) return undefined;
      this.jsonLocator ??= new JsonLocator(stripBom(this.text));
      return this.lineColumn(this.jsonLocator.text, this.jsonLocator.locate(path, atKey));
    }
    if (this.text.length >= this.fastYamlFrom) {
      this.blockYaml ??= new BlockYaml(stripBom(this.text));
      const offset = this.blockYaml.locate(index, path, atKey);
      if (offset !== undefined) return this.lineColumn(this.blockYaml.text, offset);
    }
    let node: unknown = this.load()[index];
    if (!node) return undefined;
    let offset = (node as Node).range?.[0];
    for (let i = 0; i < path.length; i++) {
      if (isAlias(node)) break;
      const seg = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) break;
        const keyStart = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        const valueStart = (pair.value as Node | null)?.range?.[0];
        offset = (i === path.length - 1 && atKey) || valueStart === undefined ? (keyStart ?? offset) : valueStart;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        offset = (node as Node | null)?.range?.[0] ?? offset;
      } else {
        break;
      }
    }
    if (offset === undefined) return undefined;
    const pos = this.lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  }
}
