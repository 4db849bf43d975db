// Calico label selectors (docs: calico/_includes/content/_selectors.mdx; lexical rules follow
// libcalico-go/lib/selector/tokenizer). Grammar, loosest binding first:
//
//   or    := and ('||' and)*
//   and   := unary ('&&' unary)*
//   unary := '!' unary | '(' or ')' | match
//   match := 'all()' | 'global()' | 'has(' label ')' | label op
//   op    := '==' str | '!=' str | 'in' set | ('not in' | 'notin') set
//          | 'contains' str | 'starts with' str | 'ends with' str
//   set   := '{' [str (',' str)*] '}'
//
// Strings are '...' or "..." with no escapes; labels are [A-Za-z0-9_./-]{1,512}; whitespace is space
// or tab; an empty selector is all(). `k != 'v'` and `k not in {...}` also match resources lacking k.

export type SelectorNode =
  | { op: 'all' }
  | { op: 'global' }
  | { op: 'has'; label: string }
  | { op: '==' | '!=' | 'contains' | 'starts with' | 'ends with'; label: string; value: string }
  | { op: 'in' | 'not in'; label: string; values: string[] }
  | { op: '!'; operand: SelectorNode }
  | { op: '&&' | '||'; operands: SelectorNode[] };

export interface Selector {
  matches(labels: Readonly<Record<string, string>>): boolean;
  toString(): string;
}

export class SelectorError extends Error {
  constructor(
    readonly code: 'SELECTOR_SYNTAX' | 'SELECTOR_GLOBAL',
    readonly selector: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`selector "${selector}": ${reason} at offset ${offset}`);
    this.name = 'SelectorError';
  }
}

const MAX_LABEL = 512;

function isLabelChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || // 0-9
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    c === 95 || // _
    c === 46 || // .
    c === 47 || // /
    c === 45 // -
  );
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly allowGlobal: boolean,
  ) {}

  parse(): SelectorNode {
    this.skipSpace();
    if (this.pos === this.text.length) return { op: 'all' };
    const node = this.parseOr();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected "${this.text.slice(this.pos, this.pos + 10)}"`);
    return node;
  }

  private fail(reason: string, at = this.pos): never {
    throw new SelectorError('SELECTOR_SYNTAX', this.text, at, reason);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && isSpace(this.text.charCodeAt(this.pos))) this.pos++;
  }

  /** Consumes a literal token (after whitespace) when it is next. */
  private accept(token: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  /** Consumes a keyword: the word must not run on into more label characters ("inx" is a label). */
  private acceptWord(...words: string[]): boolean {
    this.skipSpace();
    let at = this.pos;
    for (let w = 0; w < words.length; w++) {
      if (w > 0) {
        const gapStart = at;
        while (at < this.text.length && isSpace(this.text.charCodeAt(at))) at++;
        // "not in" may also be written "notin"; "starts with" needs its space.
        if (at === gapStart && words[w - 1] !== 'not') return false;
      }
      if (!this.text.startsWith(words[w], at)) return false;
      at += words[w].length;
    }
    if (at < this.text.length && isLabelChar(this.text.charCodeAt(at))) return false;
    this.pos = at;
    return true;
  }

  private expect(token: string, what: string): void {
    if (!this.accept(token)) this.fail(`expected ${what}`);
  }

  private parseOr(): SelectorNode {
    const operands = [this.parseAnd()];
    while (this.accept('||')) operands.push(this.parseAnd());
    return operands.length === 1 ? operands[0] : { op: '||', operands };
  }

  private parseAnd(): SelectorNode {
    const operands = [this.parseUnary()];
    while (this.accept('&&')) operands.push(this.parseUnary());
    return operands.length === 1 ? operands[0] : { op: '&&', operands };
  }

  private parseUnary(): SelectorNode {
    this.skipSpace();
    if (this.text.startsWith('!', this.pos) && !this.text.startsWith('!=', this.pos)) {
      this.pos++;
      return { op: '!', operand: this.parseUnary() };
    }
    if (this.accept('(')) {
      const inner = this.parseOr();
      this.expect(')', '")" to close the parenthesis');
      return inner;
    }
    return this.parseMatch();
  }

  private parseEmptyCall(name: string): boolean {
    const start = this.pos;
    if (!this.text.startsWith(`${name}(`, this.pos)) return false;
    this.pos += name.length + 1;
    if (this.accept(')')) return true;
    this.pos = start;
    return false;
  }

  private parseMatch(): SelectorNode {
    this.skipSpace();
    const start = this.pos;
    if (this.parseEmptyCall('all')) return { op: 'all' };
    if (this.parseEmptyCall('global')) {
      if (!this.allowGlobal) {
        throw new SelectorError(
          'SELECTOR_GLOBAL',
          this.text,
          start,
          'global() selects non-namespaced resources and is valid only in a namespaceSelector, not in a policy or rule selector',
        );
      }
      return { op: 'global' };
    }
    if (this.text.startsWith('has(', this.pos)) {
      this.pos += 4;
      this.skipSpace();
      const label = this.parseLabel();
      this.expect(')', '")" after the label in has()');
      return { op: 'has', label };
    }
    const label = this.parseLabel();
    if (this.accept('==')) return { op: '==', label, value: this.parseString() };
    if (this.accept('!=')) return { op: '!=', label, value: this.parseString() };
    if (this.acceptWord('in')) return { op: 'in', label, values: this.parseSet() };
    if (this.acceptWord('not', 'in')) return { op: 'not in', label, values: this.parseSet() };
    if (this.acceptWord('contains')) return { op: 'contains', label, value: this.parseString() };
    if (this.acceptWord('starts', 'with')) return { op: 'starts with', label, value: this.parseString() };
    if (this.acceptWord('ends', 'with')) return { op: 'ends with', label, value: this.parseString() };
    this.skipSpace();
    return this.fail(`expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "${label}"`);
  }

  private parseLabel(): string {
    const start = this.pos;
    while (this.pos < this.text.length && isLabelChar(this.text.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) {
      const rest = this.text.slice(start);
      return this.fail(rest ? `expected a label, has(), all() or "(" but found "${rest.slice(0, 10)}"` : 'unexpected end of selector');
    }
    if (this.pos - start > MAX_LABEL) this.fail(`label is longer than ${MAX_LABEL} characters`, start);
    return this.text.slice(start, this.pos);
  }

  private parseString(): string {
    this.skipSpace();
    const quote = this.text[this.pos];
    if (quote !== '"' && quote !== "'") return this.fail('expected a quoted string');
    const close = this.text.indexOf(quote, this.pos + 1);
    if (close < 0) return this.fail('unterminated string');
    const value = this.text.slice(this.pos + 1, close);
    this.pos = close + 1;
    return value;
  }

  private parseSet(): string[] {
    this.expect('{', '"{" to open a set of values');
    const values: string[] = [];
    if (this.accept('}')) return values;
    do values.push(this.parseString());
    while (this.accept(','));
    this.expect('}', '"," or "}" in a set of values');
    return values;
  }
}

function quote(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

/** Calico's canonical-ish text: sets sorted and deduplicated, binary operators parenthesised. */
export function formatSelectorNode(node: SelectorNode): string {
  switch (node.op) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${node.label})`;
    case 'in':
    case 'not in':
      return `${node.label} ${node.op} {${[...new Set(node.values)].sort().map(quote).join(', ')}}`;
    case '!':
      return `!${formatSelectorNode(node.operand)}`;
    case '&&':
    case '||':
      return `(${node.operands.map(formatSelectorNode).join(` ${node.op} `)})`;
    default:
      return `${node.label} ${node.op} ${quote(node.value)}`;
  }
}

export function evaluateSelectorNode(node: SelectorNode, labels: Readonly<Record<string, string>>): boolean {
  const value = (label: string): string | undefined =>
    Object.prototype.hasOwnProperty.call(labels, label) ? labels[label] : undefined;
  switch (node.op) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return value(node.label) !== undefined;
    case '==':
      return value(node.label) === node.value;
    case '!=':
      return value(node.label) !== node.value;
    case 'in': {
      const v = value(node.label);
      return v !== undefined && node.values.includes(v);
    }
    case 'not in': {
      const v = value(node.label);
      return v === undefined || !node.values.includes(v);
    }
    case 'contains':
      return value(node.label)?.includes(node.value) ?? false;
    case 'starts with':
      return value(node.label)?.startsWith(node.value) ?? false;
    case 'ends with':
      return value(node.label)?.endsWith(node.value) ?? false;
    case '!':
      return !evaluateSelectorNode(node.operand, labels);
    case '&&':
      return node.operands.every((o) => evaluateSelectorNode(o, labels));
    case '||':
      return node.operands.some((o) => evaluateSelectorNode(o, labels));
  }
}

export class ParsedSelector implements Selector {
  constructor(readonly root: SelectorNode) {}

  matches(labels: Readonly<Record<string, string>>): boolean {
    return evaluateSelectorNode(this.root, labels);
  }

  toString(): string {
    return formatSelectorNode(this.root);
  }
}

/**
 * Parses a Calico selector. global() is refused (code SELECTOR_GLOBAL) unless allowGlobal is set:
 * Calico allows it only in an EntityRule namespaceSelector, which flockguard's model does not have.
 */
export function parseSelector(text: string, options: { allowGlobal?: boolean } = {}): ParsedSelector {
  return new ParsedSelector(new Parser(text, options.allowGlobal ?? false).parse());
}
