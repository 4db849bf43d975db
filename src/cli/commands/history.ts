// flockguard history : stored revisions, newest first.
import { OUTPUT_OPTION, SOCKET_OPTION, integerOption, noPositionals, outputFormat, parseCommandArgs } from '../args';
import { withAgent } from '../connect';
import type { CliIO } from '../io';
import { table } from '../render';
import type { RevisionSummary } from '../../api/service';

const OPTIONS = { ...OUTPUT_OPTION, ...SOCKET_OPTION, limit: { type: 'string' } } as const;

function actor(r: RevisionSummary): string {
  const a = r.actor;
  if (!a) return '';
  const who = a.name ?? (a.uid !== undefined ? `uid ${a.uid}` : '');
  const pid = a.pid !== undefined ? ` pid ${a.pid}` : '';
  return `${who}${pid}${a.claimed ? ' (claimed)' : ''}`.trim();
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('history', argv, OPTIONS);
  noPositionals('history', args);
  const output = outputFormat('history', args, ['json'] as const);
  const limit = integerOption('history', args, 'limit', 1, 100_000);
  const revisions = await withAgent(args, io, (client) => client.history(limit));
  if (output === 'json') {
    io.stdout.write(JSON.stringify(revisions, null, 2) + '\n');
  } else if (revisions.length === 0) {
    io.stderr.write('no revisions yet: flockguard apply -f FILE creates the first\n');
  } else {
    io.stdout.write(
      table(
        ['REVISION', 'CREATED', 'SOURCE', 'BY', 'RESOURCES', 'COMMENT'],
        revisions.map((r) => [String(r.revision), r.createdAt, r.source, actor(r), String(r.resourceCount), r.comment ?? '']),
      ),
    );
  }
  return 0;
}
