// flockguard rollback [--to REVISION] : make an earlier revision current, as a new revision.
import { OUTPUT_OPTION, SOCKET_OPTION, flag, integerOption, noPositionals, outputFormat, parseCommandArgs } from '../args';
import { withAgent } from '../connect';
import type { CliIO } from '../io';
import { failureJson, printMutation } from '../render';

const OPTIONS = { ...OUTPUT_OPTION, ...SOCKET_OPTION, to: { type: 'string' }, 'dry-run': { type: 'boolean' } } as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('rollback', argv, OPTIONS);
  noPositionals('rollback', args);
  const output = outputFormat('rollback', args, ['json', 'name'] as const);
  const toRevision = integerOption('rollback', args, 'to', 1, Number.MAX_SAFE_INTEGER);
  try {
    const result = await withAgent(args, io, (client) => client.rollback({ toRevision, dryRun: flag(args, 'dry-run') }));
    printMutation(io, result, output);
    if (output === undefined && !result.dryRun) {
      io.stderr.write(`rolled back to ${toRevision === undefined ? 'the previous revision' : `revision ${toRevision}`}; now at revision ${result.revision}\n`);
    }
    return 0;
  } catch (err) {
    if (output === 'json') io.stdout.write(failureJson(err as Error));
    throw err;
  }
}
