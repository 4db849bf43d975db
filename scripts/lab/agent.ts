// The lab agent: one per lab namespace, started by Lab with `ip netns exec <ns> node agent.js`.
// It serves "who am I" echo servers and makes client connections on the parent's behalf, speaking
// the JSON-lines protocol of agent-protocol.ts over stdin/stdout. It exits when stdin closes, so it
// never outlives the process that created the lab, even one killed with SIGKILL.
import * as readline from 'node:readline';
import { bulk, connectTcp, connectUdp, rate } from './agent-clients';
import type { AgentRequest, AgentResponse } from './agent-protocol';
import { listenTcp, listenUdp } from './agent-servers';

const closers: Array<() => void> = [];

function send(response: AgentResponse): void {
  process.stdout.write(JSON.stringify(response) + '\n');
}

async function handle(id: number, req: AgentRequest): Promise<AgentResponse> {
  switch (req.op) {
    case 'listen':
      await (req.proto === 'tcp' ? listenTcp(req, closers) : listenUdp(req, closers));
      return { id, op: 'listen', ok: true };
    case 'connect':
      return { id, op: 'connect', result: await (req.proto === 'tcp' ? connectTcp(req) : connectUdp(req)) };
    case 'bulk':
      return { id, op: 'bulk', result: await bulk(req) };
    case 'rate':
      return { id, op: 'rate', result: await rate(req) };
  }
}

function main(): void {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { id, ...req } = JSON.parse(line) as AgentRequest & { id: number };
    handle(id, req as AgentRequest).then(send, (err: NodeJS.ErrnoException) =>
      send({ id, op: 'error', message: err.message, code: err.code ?? 'LAB_AGENT_ERROR' }),
    );
  });
  lines.on('close', () => {
    for (const close of closers) close();
    process.exit(0);
  });
}

main();
