// flockguard agent : parse the agent's options and hand over to src/agent/main.ts (loaded only here,
// so other commands never pay for the agent's modules).
import type { AgentOptions as DaemonOptions } from '../../agent/options';
import { parseAgentOptions } from '../agent-options';
import type { CliIO } from '../io';

interface AgentModule {
  /** Resolves once the agent serves; `closed` settles when SIGTERM/SIGINT has stopped it. */
  runAgent(options: DaemonOptions): Promise<{ closed: Promise<void> }>;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const options = parseAgentOptions(argv, io.env);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose, and the module is written separately
  const agent = require('../../agent/main') as AgentModule;
  const running = await agent.runAgent(options);
  await running.closed;
  return 0;
}
