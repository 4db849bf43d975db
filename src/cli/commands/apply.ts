// flockguard apply -f FILE|DIR|- : validate locally, then one atomic apply in the agent.
import { FILENAME_OPTION, OUTPUT_OPTION, SOCKET_OPTION, flag, outputFormat, parseCommandArgs, requireFilenames, noPositionals } from '../args';
import { withAgent } from '../connect';
import { readDocuments, validateOrFail } from '../documents';
import type { CliIO } from '../io';
import { failureJson, printMutation } from '../render';

const OPTIONS = {
  ...FILENAME_OPTION,
  ...OUTPUT_OPTION,
  ...SOCKET_OPTION,
  'dry-run': { type: 'boolean' },
  'skip-unsupported': { type: 'boolean' },
  'detailed-exitcode': { type: 'boolean' },
} as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('apply', argv, OPTIONS);
  noPositionals('apply', args);
  const files = requireFilenames('apply', args);
  const output = outputFormat('apply', args, ['json', 'name'] as const);
  const dryRun = flag(args, 'dry-run');
  const skipUnsupported = flag(args, 'skip-unsupported');
  try {
    const documents = await readDocuments(files, io);
    await validateOrFail(documents, skipUnsupported, io, 'nothing was applied');
    const result = await withAgent(args, io, (client) => client.apply({ documents, dryRun, skipUnsupported }));
    printMutation(io, result, output);
    return flag(args, 'detailed-exitcode') && result.changed ? 2 : 0;
  } catch (err) {
    if (output === 'json') io.stdout.write(failureJson(err as Error));
    throw err;
  }
}
