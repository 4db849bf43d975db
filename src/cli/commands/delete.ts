// flockguard delete KIND NAME... | -f FILE : remove resources in one atomic change.
import type { ResourceRef } from '../../api/service';
import { FILENAME_OPTION, OUTPUT_OPTION, SOCKET_OPTION, flag, listOption, outputFormat, parseCommandArgs } from '../args';
import { withAgent } from '../connect';
import { readDocuments } from '../documents';
import { UsageError, type CliIO } from '../io';
import { resolveKind } from '../kinds';
import { failureJson, printMutation } from '../render';

const OPTIONS = {
  ...FILENAME_OPTION,
  ...OUTPUT_OPTION,
  ...SOCKET_OPTION,
  'dry-run': { type: 'boolean' },
  'skip-not-exists': { type: 'boolean', short: 's' },
} as const;

function refsFrom(positionals: string[]): ResourceRef[] {
  if (positionals.length === 0) return [];
  if (positionals.length < 2) throw new UsageError('delete: give KIND and at least one NAME, or -f FILE', 'delete');
  const kind = resolveKind(positionals[0], 'delete');
  return positionals.slice(1).map((name) => ({ kind, name }));
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('delete', argv, OPTIONS);
  const output = outputFormat('delete', args, ['json', 'name'] as const);
  const files = listOption(args, 'filename');
  const refs = refsFrom(args.positionals);
  if (files.length > 0 && refs.length > 0) throw new UsageError('delete: give either KIND NAME... or -f FILE, not both', 'delete');
  if (files.length === 0 && refs.length === 0) throw new UsageError('delete: nothing to delete; give KIND NAME... or -f FILE', 'delete');
  try {
    const documents = files.length > 0 ? await readDocuments(files, io) : [];
    const result = await withAgent(args, io, (client) =>
      client.delete({ refs, documents, dryRun: flag(args, 'dry-run'), skipNotExists: flag(args, 'skip-not-exists') }),
    );
    printMutation(io, result, output);
    return 0;
  } catch (err) {
    if (output === 'json') io.stdout.write(failureJson(err as Error));
    throw err;
  }
}
