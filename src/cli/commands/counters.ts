// flockguard counters [POLICY] [--watch] : packets and bytes per policy rule.
import type { CountersResult } from '../../api/service';
import { OUTPUT_OPTION, SOCKET_OPTION, durationOption, flag, outputFormat, parseCommandArgs } from '../args';
import { withAgent } from '../connect';
import { UsageError, type CliIO } from '../io';
import { table } from '../render';

const OPTIONS = { ...OUTPUT_OPTION, ...SOCKET_OPTION, watch: { type: 'boolean', short: 'w' }, interval: { type: 'string' } } as const;

function human(r: CountersResult): string {
  return table(
    ['POLICY', 'RULE', 'ACTION', 'PACKETS', 'BYTES', 'CHAIN', 'COMMENT'],
    r.counters.map((c) => [c.policy ?? '-', c.ruleIndex === undefined ? '-' : String(c.ruleIndex), c.action ?? '-', String(c.packets), String(c.bytes), c.chain, c.comment]),
  );
}

/** Resolves after ms, or early when the signal fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('counters', argv, OPTIONS);
  const output = outputFormat('counters', args, ['json'] as const);
  if (args.positionals.length > 1) throw new UsageError('counters: give at most one POLICY', 'counters');
  const policy = args.positionals[0];
  const watch = flag(args, 'watch');
  const interval = durationOption('counters', args, 'interval') ?? 2000;
  const signal = watch ? io.interrupt() : new AbortController().signal;
  await withAgent(args, io, async (client) => {
    do {
      const result = await client.counters(policy);
      if (output === 'json') io.stdout.write(JSON.stringify(result, null, watch ? undefined : 2) + '\n');
      else io.stdout.write((watch ? `${result.time}\n` : '') + human(result) + (watch ? '\n' : ''));
      if (watch) await sleep(interval, signal);
    } while (watch && !signal.aborted);
  });
  return 0;
}
