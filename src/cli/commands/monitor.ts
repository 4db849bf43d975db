// flockguard monitor : policy and ruleset change events, until Ctrl-C.
import type { ChangeEvent } from '../../api/service';
import { OUTPUT_OPTION, SOCKET_OPTION, noPositionals, outputFormat, parseCommandArgs } from '../args';
import { withAgent } from '../connect';
import type { CliIO } from '../io';

const OPTIONS = { ...OUTPUT_OPTION, ...SOCKET_OPTION } as const;

function human(e: ChangeEvent): string {
  const rev = e.revision !== undefined ? ` revision ${e.revision}` : '';
  const gen = e.generation !== undefined ? ` generation ${e.generation}` : '';
  return `${e.time} ${e.type}${rev}${gen}: ${e.message}\n`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('monitor', argv, OPTIONS);
  noPositionals('monitor', args);
  const output = outputFormat('monitor', args, ['json'] as const);
  const interrupt = io.interrupt();
  await withAgent(args, io, async (client) => {
    const stream = client.monitor();
    const stop = (): void => stream.cancel();
    interrupt.addEventListener('abort', stop, { once: true });
    try {
      for await (const event of stream) io.stdout.write(output === 'json' ? JSON.stringify(event) + '\n' : human(event));
    } finally {
      interrupt.removeEventListener('abort', stop);
    }
  });
  return 0;
}
