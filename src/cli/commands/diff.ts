// flockguard diff -f FILE : kubectl's convention, exit 0 when the files equal what the agent stores,
// 1 when they differ (a unified diff of the YAML is printed), >1 (2) on any error.
import { FILENAME_OPTION, SOCKET_OPTION, flag, noPositionals, parseCommandArgs, requireFilenames } from '../args';
import { withAgent } from '../connect';
import { readDocuments, validateOrFail } from '../documents';
import type { CliIO } from '../io';
import { objectRef } from '../kinds';
import { unifiedDiff } from '../unified-diff';

export const ERROR_EXIT_CODE = 2;

const OPTIONS = {
  ...FILENAME_OPTION,
  ...SOCKET_OPTION,
  'skip-unsupported': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('diff', argv, OPTIONS);
  noPositionals('diff', args);
  const files = requireFilenames('diff', args);
  const skipUnsupported = flag(args, 'skip-unsupported');
  const documents = await readDocuments(files, io);
  await validateOrFail(documents, skipUnsupported, io, 'nothing was compared', ERROR_EXIT_CODE);
  const result = await withAgent(args, io, (client) => client.diff({ documents, skipUnsupported }));
  if (!flag(args, 'quiet')) {
    const { stringify } = await import('yaml');
    const yaml = (v: unknown): string => (v === undefined ? '' : stringify(v, { lineWidth: 0 }));
    for (const entry of result.entries) {
      if (entry.action === 'unchanged') continue;
      const ref = objectRef(entry.kind, entry.name);
      io.stdout.write(
        unifiedDiff(yaml(entry.current), yaml(entry.desired), {
          from: entry.current === undefined ? '/dev/null' : `live/${ref}`,
          to: `merged/${ref}`,
        }),
      );
    }
  }
  return result.changed ? 1 : 0;
}
