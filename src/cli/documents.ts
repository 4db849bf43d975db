// Reading -f arguments (files, directories recursively, "-" for stdin) into documents, and the
// local parse + validation that apply, diff and validate run before anything reaches the agent.
// We read the files ourselves rather than through parsePolicyFiles because the same text must
// also be sent to the agent, and stdin can be read only once.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PolicyIssue, Resource } from '../policy/model';
import type { PolicyDocument } from '../api/service';
import { CliError, type CliIO } from './io';

const POLICY_FILE = /\.(ya?ml|json)$/i;

/** Issue codes that --skip-unsupported turns into warnings (src/policy/issues.ts). */
const SKIPPABLE = new Set(['POLICY_BAD_API_VERSION', 'POLICY_UNSUPPORTED_KIND', 'POLICY_NOT_PREDNAT', 'POLICY_UNSUPPORTED_FIELD']);

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function walk(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(full)));
    else if (POLICY_FILE.test(entry.name)) files.push(full);
  }
  return files;
}

function unreadable(file: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  return new CliError('CLI_FILE', `cannot read ${file} (${code}): check the path given to -f`);
}

/** Every -f argument as documents, in order; directories expand to their policy files, sorted. */
export async function readDocuments(paths: string[], io: CliIO): Promise<PolicyDocument[]> {
  const docs: PolicyDocument[] = [];
  for (const p of paths) {
    if (p === '-') {
      docs.push({ fileName: '-', text: await readStdin(io.stdin) });
      continue;
    }
    let stat;
    try {
      stat = await fs.stat(p);
    } catch (err) {
      throw unreadable(p, err);
    }
    const files = stat.isDirectory() ? await walk(p) : [p];
    if (files.length === 0) {
      throw new CliError('CLI_NO_FILES', `${p} holds no .yaml, .yml or .json files: check the directory given to -f`);
    }
    for (const file of files) {
      try {
        docs.push({ fileName: file, text: await fs.readFile(file, 'utf8') });
      } catch (err) {
        throw unreadable(file, err);
      }
    }
  }
  return docs;
}

export interface LocalParse {
  resources: Resource[];
  issues: PolicyIssue[];
  skipped: PolicyIssue[];
}

/** Parses and validates documents with src/policy, adding duplicates across documents. */
export async function parseLocally(docs: PolicyDocument[], skipUnsupported: boolean): Promise<LocalParse> {
  const { parsePolicyText } = await import('../policy/parse');
  const out: LocalParse = { resources: [], issues: [], skipped: [] };
  const seen = new Map<string, string>();
  for (const doc of docs) {
    const result = parsePolicyText(doc.text, { file: doc.fileName, skipUnsupported });
    out.issues.push(...result.issues);
    out.skipped.push(...result.skipped);
    for (const r of result.resources) {
      const key = `${r.kind}/${r.metadata.name}`;
      const first = seen.get(key);
      if (first !== undefined && first !== doc.fileName) {
        out.issues.push({
          object: key,
          field: 'metadata.name',
          value: r.metadata.name,
          message: `defined again (first in ${first}); each object may appear once per apply`,
          position: { file: doc.fileName },
          code: 'POLICY_DUPLICATE',
        });
      }
      seen.set(key, first ?? doc.fileName);
      out.resources.push(r);
    }
  }
  return out;
}

/** Prints issues one per line (file:line:col: object: field: message [CODE]) to stderr. */
export async function printIssues(io: CliIO, issues: PolicyIssue[], prefix = ''): Promise<void> {
  const { formatIssue } = await import('../policy/parse');
  for (const issue of issues) io.stderr.write(`${prefix}${formatIssue(issue)}\n`);
}

/** Validates locally; prints warnings for skipped items, and on errors prints them all and throws. */
export async function validateOrFail(
  docs: PolicyDocument[],
  skipUnsupported: boolean,
  io: CliIO,
  consequence: string,
  exitCode = 1,
): Promise<LocalParse> {
  const parsed = await parseLocally(docs, skipUnsupported);
  await printIssues(io, parsed.skipped, 'warning: skipped: ');
  if (parsed.issues.length > 0) {
    await printIssues(io, parsed.issues);
    const n = parsed.issues.length;
    const skippable = !skipUnsupported && parsed.issues.some((i) => SKIPPABLE.has(i.code));
    throw new CliError(
      'POLICY_INVALID',
      `${n} error${n === 1 ? '' : 's'} in the policy files; ${consequence}. Fix them and run again ` +
        `(flockguard validate -f PATH checks files offline${skippable ? '; --skip-unsupported drops unsupported kinds and fields' : ''})`,
      exitCode,
    );
  }
  return parsed;
}
