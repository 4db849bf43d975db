// flockguard trace : follow matching packets through flockguard's rules as they arrive. Ends after
// --timeout (the agent removes its trace rule then) or on Ctrl-C, both with exit 0.
import type { TraceLine, TraceRequest } from '../../api/service';
import { OUTPUT_OPTION, SOCKET_OPTION, durationOption, integerOption, noPositionals, outputFormat, parseCommandArgs, stringOption } from '../args';
import { withAgent } from '../connect';
import type { CliIO } from '../io';

const OPTIONS = {
  ...OUTPUT_OPTION,
  ...SOCKET_OPTION,
  src: { type: 'string' },
  dst: { type: 'string' },
  dport: { type: 'string' },
  iif: { type: 'string' },
  timeout: { type: 'string' },
} as const;

export const DEFAULT_TRACE_TIMEOUT_MS = 30_000;
/** How long past the timeout we wait for the agent to close the stream before closing it ourselves. */
const GRACE_MS = 5_000;

function human(l: TraceLine): string {
  return `${l.time} ${l.traceId} ${l.chain}: ${l.text}\n`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('trace', argv, OPTIONS);
  noPositionals('trace', args);
  const output = outputFormat('trace', args, ['json'] as const);
  const timeoutMs = durationOption('trace', args, 'timeout') ?? DEFAULT_TRACE_TIMEOUT_MS;
  const req: TraceRequest = { timeoutMs };
  for (const name of ['src', 'dst', 'iif'] as const) {
    const v = stringOption(args, name);
    if (v !== undefined) req[name] = v;
  }
  const dport = integerOption('trace', args, 'dport', 1, 65535);
  if (dport !== undefined) req.dport = dport;

  const interrupt = io.interrupt();
  let lines = 0;
  await withAgent(args, io, async (client) => {
    const stream = client.trace(req);
    const stop = (): void => stream.cancel();
    interrupt.addEventListener('abort', stop, { once: true });
    const guard = setTimeout(stop, timeoutMs + GRACE_MS);
    try {
      for await (const line of stream) {
        lines++;
        io.stdout.write(output === 'json' ? JSON.stringify(line) + '\n' : human(line));
      }
    } finally {
      clearTimeout(guard);
      interrupt.removeEventListener('abort', stop);
    }
  });
  io.stderr.write(`trace ${interrupt.aborted ? 'stopped' : 'ended'}: ${lines} line${lines === 1 ? '' : 's'}\n`);
  return 0;
}
