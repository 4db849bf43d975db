// Reading policy manifests: text, files, directories or stdin; single documents, `---` streams and
// `kind: List` (or `<Kind>List`, as `calicoctl get -o yaml` writes). Every issue is reported, each
// naming document, field, value and (when there is a source text) file, line and column.
//
// A ParseResult with issues must not be applied: `resources` then holds only the documents that
// were valid on their own, for tools that want to show them.
import fs from 'node:fs';
import path from 'node:path';
import { Finding, isMapping, Mapping } from './check';
import { FieldPath, formatFieldPath, formatIssue, IssueCode, showValue } from './issues';
import { KINDS, PolicyIssue, Resource, resourceKey, SourcePosition } from './model';
import { decodeText, PositionFinder } from './source';
import { validateDocument, ValidateOptions } from './validate';

export { formatIssue };

export interface ParseResult {
  resources: Resource[];
  issues: PolicyIssue[];
  /** Documents left out because flockguard does not enforce them (only with skipUnsupported). */
  skipped: PolicyIssue[];
}

export interface ParseOptions extends ValidateOptions {
  /** Shown in issues and used for positions. */
  file?: string;
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];
const STDIN = '-';
const STDIN_LABEL = '<stdin>';
const LIST_FIELDS = ['apiVersion', 'kind', 'items', 'metadata'];

/** Where a finding lives: which text, which document, and the path prefix of a List item. */
interface Origin {
  file?: string;
  finder?: PositionFinder;
  document: number;
  prefix: FieldPath;
  object: string;
}

interface Pending {
  origin: Origin;
  finding: Finding;
  skipped: boolean;
}

/** Collects results across texts so that duplicates are found across the whole push. */
class Collector {
  private readonly pending: Pending[] = [];
  private readonly accepted: Array<{ resource: Resource; origin: Origin }> = [];

  constructor(private readonly options: ValidateOptions) {}

  fileProblem(file: string, message: string): void {
    this.pending.push({
      origin: { file, document: -1, prefix: [], object: '' },
      finding: { path: [], code: IssueCode.FILE, message },
      skipped: false,
    });
  }

  addText(text: string, file?: string): void {
    const decoded = decodeText(text);
    for (const problem of decoded.syntax) {
      this.pending.push({
        origin: { file, document: -1, prefix: [], object: '' },
        finding: { path: [], code: IssueCode.SYNTAX, message: problem.message, value: { line: problem.line, column: problem.column } },
        skipped: false,
      });
    }
    const finder = new PositionFinder(text, decoded.json);
    decoded.documents.forEach((doc, index) => {
      const origin: Origin = { file, finder, document: index, prefix: [], object: `document ${index + 1}` };
      if (isMapping(doc) && isListKind(doc.kind)) this.addList(doc, origin);
      else this.addDocument(doc, origin);
    });
  }

  private addList(list: Mapping, origin: Origin): void {
    const findings: Finding[] = [];
    for (const key of Object.keys(list)) {
      if (!LIST_FIELDS.includes(key)) findings.push({ path: [key], code: IssueCode.UNKNOWN_FIELD, message: `unknown field "${key}" in a List`, atKey: true });
    }
    const items = list.items ?? [];
    if (!Array.isArray(items)) findings.push({ path: ['items'], code: IssueCode.BAD_TYPE, message: `${showValue(items)} is not a list`, value: items });
    for (const finding of findings) this.pending.push({ origin, finding, skipped: false });
    if (!Array.isArray(items)) return;
    // `calicoctl get` writes GlobalNetworkPolicyList items with their own kind; fill it in if absent.
    const itemKind = typeof list.kind === 'string' && list.kind !== 'List' ? list.kind.slice(0, -'List'.length) : undefined;
    items.forEach((item, i) => {
      const doc = itemKind && isMapping(item) ? { apiVersion: list.apiVersion, kind: itemKind, ...item } : item;
      this.addDocument(doc, { ...origin, prefix: ['items', i], object: `${origin.object} items[${i}]` });
    });
  }

  private addDocument(doc: unknown, origin: Origin): void {
    const outcome = validateDocument(doc, this.options);
    const at: Origin = outcome.object ? { ...origin, object: outcome.object } : origin;
    for (const finding of outcome.findings) this.pending.push({ origin: at, finding, skipped: false });
    if (outcome.skipped) this.pending.push({ origin: at, finding: outcome.skipped, skipped: true });
    if (outcome.resource) this.accepted.push({ resource: outcome.resource, origin: at });
  }

  finish(): ParseResult {
    const seen = new Map<string, Origin>();
    const resources: Resource[] = [];
    for (const { resource, origin } of this.accepted) {
      const key = resourceKey(resource);
      const first = seen.get(key);
      if (first) {
        const where = describeOrigin(first);
        this.pending.push({
          origin,
          finding: { path: ['metadata', 'name'], code: IssueCode.DUPLICATE, message: `${key} is defined twice in one push (first ${where})`, value: resource.metadata.name },
          skipped: false,
        });
        continue;
      }
      seen.set(key, origin);
      resources.push(resource);
    }
    const issues: PolicyIssue[] = [];
    const skipped: PolicyIssue[] = [];
    for (const p of this.pending) (p.skipped ? skipped : issues).push(toIssue(p));
    return { resources, issues, skipped };
  }
}

function isListKind(kind: unknown): boolean {
  return kind === 'List' || (typeof kind === 'string' && kind.endsWith('List') && (KINDS as readonly string[]).includes(kind.slice(0, -4)));
}

function describeOrigin(origin: Origin): string {
  const pos = origin.finder?.locate(origin.document, [...origin.prefix, 'metadata', 'name']);
  const where = [origin.file, pos?.line, pos?.column].filter((x) => x !== undefined);
  return where.length ? `at ${where.join(':')}` : `in ${origin.object}`;
}

function toIssue({ origin, finding }: Pending): PolicyIssue {
  const issue: PolicyIssue = {
    object: origin.object,
    field: formatFieldPath(finding.path),
    message: finding.message,
    code: finding.code,
  };
  const position: SourcePosition = {};
  if (origin.file !== undefined) position.file = origin.file;
  if (finding.code === IssueCode.SYNTAX) {
    const { line, column } = finding.value as { line?: number; column?: number };
    if (line !== undefined) position.line = line;
    if (column !== undefined) position.column = column;
  } else {
    if (finding.value !== undefined) issue.value = finding.value;
    const pos = origin.finder?.locate(origin.document, [...origin.prefix, ...finding.path], finding.atKey);
    if (pos) {
      position.line = pos.line;
      position.column = pos.column;
    }
  }
  if (Object.keys(position).length) issue.position = position;
  return issue;
}

/** Parses manifest text (YAML or JSON; one document, a `---` stream, or a List). */
export function parsePolicyText(text: string, options: ParseOptions = {}): ParseResult {
  const collector = new Collector(options);
  collector.addText(text, options.file);
  return collector.finish();
}

/** Manifest files under a directory, recursively, in name order; symlink loops are cut. */
function listManifests(dir: string, visited: Set<string>): string[] {
  const real = fs.realpathSync(dir);
  if (visited.has(real)) return [];
  visited.add(real);
  const out: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const stat = fs.statSync(full);
    if (stat.isDirectory()) out.push(...listManifests(full, visited));
    else if (stat.isFile() && MANIFEST_EXTENSIONS.includes(path.extname(name).toLowerCase())) out.push(full);
  }
  return out;
}

function readInput(collector: Collector, input: string): void {
  if (input === STDIN) {
    collector.addText(fs.readFileSync(0, 'utf8'), STDIN_LABEL);
    return;
  }
  let files: string[];
  try {
    files = fs.statSync(input).isDirectory() ? listManifests(input, new Set()) : [input];
  } catch (err) {
    collector.fileProblem(input, `cannot read: ${(err as Error).message}`);
    return;
  }
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      collector.fileProblem(file, `cannot read: ${(err as Error).message}`);
      continue;
    }
    collector.addText(text, file);
  }
}

/** Parses files and directories (recursively: *.yaml, *.yml, *.json); "-" reads stdin. */
export function parsePolicyFiles(paths: string[], options: ValidateOptions = {}): ParseResult {
  const collector = new Collector(options);
  for (const input of paths) readInput(collector, input);
  return collector.finish();
}
