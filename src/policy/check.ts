// The Checker collects every finding in one document (never just the first), and offers typed
// readers that report a wrong type instead of throwing, so validation always runs to the end.
import { FieldPath, IssueCode, showValue } from './issues';

export interface Finding {
  /** Relative to the resource's root (List items add their prefix when positions are resolved). */
  path: FieldPath;
  code: IssueCode;
  message: string;
  value?: unknown;
  /** Point at the key rather than the value (unknown fields). */
  atKey?: boolean;
}

export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Findings kept per document. A generated set with a systematic mistake can hold a million bad
 * entries; past this many, further findings are only counted (see `suppressed`).
 */
export const MAX_FINDINGS_PER_DOCUMENT = 1000;

export class Checker {
  readonly findings: Finding[] = [];
  /** Findings past MAX_FINDINGS_PER_DOCUMENT, counted but not kept. */
  suppressed = 0;

  report(path: FieldPath, code: IssueCode, message: string, value?: unknown, atKey?: boolean): void {
    if (this.findings.length >= MAX_FINDINGS_PER_DOCUMENT) {
      this.suppressed++;
      return;
    }
    const finding: Finding = { path, code, message };
    if (value !== undefined) finding.value = value;
    if (atKey) finding.atKey = true;
    this.findings.push(finding);
  }

  get failed(): boolean {
    return this.findings.length > 0;
  }

  private wrongType(path: FieldPath, value: unknown, expected: string): undefined {
    this.report(path, IssueCode.BAD_TYPE, `${showValue(value)} is not ${expected}`, value);
    return undefined;
  }

  /**
   * Refuses keys outside `allowed`. `unsupported` names real Calico fields flockguard does not
   * implement; they get their own code and message, and an empty value there is tolerated since
   * exporters often write them out empty.
   */
  fields(obj: Mapping, path: FieldPath, allowed: readonly string[], unsupported: readonly string[] = []): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const value = obj[key];
      if (unsupported.includes(key)) {
        if (isEmpty(value)) continue;
        this.report([...path, key], IssueCode.UNSUPPORTED_FIELD, `field "${key}" is not supported by flockguard`, undefined, true);
      } else {
        const hint = closestName(key, allowed);
        const known = hint ? `did you mean "${hint}"?` : `known fields: ${allowed.join(', ')}`;
        this.report([...path, key], IssueCode.UNKNOWN_FIELD, `unknown field "${key}" (${known})`, undefined, true);
      }
    }
  }

  mapping(value: unknown, path: FieldPath): Mapping | undefined {
    if (value === undefined || value === null) return undefined;
    return isMapping(value) ? value : this.wrongType(path, value, 'a mapping');
  }

  list(value: unknown, path: FieldPath): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    return Array.isArray(value) ? value : this.wrongType(path, value, 'a list');
  }

  string(value: unknown, path: FieldPath): string | undefined {
    if (value === undefined || value === null) return undefined;
    return typeof value === 'string' ? value : this.wrongType(path, value, 'a string');
  }

  boolean(value: unknown, path: FieldPath): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    return typeof value === 'boolean' ? value : this.wrongType(path, value, 'true or false');
  }

  number(value: unknown, path: FieldPath): number | undefined {
    if (value === undefined || value === null) return undefined;
    return typeof value === 'number' && Number.isFinite(value) ? value : this.wrongType(path, value, 'a number');
  }

  /** An integer in [min, max]; reports `code` when out of range. */
  integer(value: unknown, path: FieldPath, min: number, max: number, code: IssueCode, what: string): number | undefined {
    const n = this.number(value, path);
    if (n === undefined) return undefined;
    if (!Number.isInteger(n) || n < min || n > max) {
      this.report(path, code, `${showValue(value)} is not ${what} (an integer ${min}-${max})`, value);
      return undefined;
    }
    return n;
  }

  /** A list of strings; wrong entries are reported one by one and left out. */
  strings(value: unknown, path: FieldPath): string[] | undefined {
    const list = this.list(value, path);
    if (!list) return undefined;
    const out: string[] = [];
    list.forEach((item, i) => {
      const s = this.string(item, [...path, i]);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  /** A map of string to string (labels, annotations). */
  stringMap(value: unknown, path: FieldPath): Record<string, string> | undefined {
    const obj = this.mapping(value, path);
    if (!obj) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) {
      const s = this.string(v, [...path, k]);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isMapping(value) && Object.keys(value).length === 0;
}

/** Edit distance (insert, delete, substitute) between two short strings. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length];
}

/** The known field a misspelt key most likely meant: same letters in another case, or 2 edits away. */
function closestName(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of known) {
    const d = name.toLowerCase() === lower ? 0 : editDistance(lower, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}
