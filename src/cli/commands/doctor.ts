// flockguard doctor : checks the pieces flockguard depends on, each with the fix when it fails:
// node and config here, then the agent, then the node's ruleset (src/troubleshoot/doctor.ts).
import type { AgentStatus } from '../../api/service';
import { DEFAULT_CONFIG_PATH, parseAgentOptions } from '../agent-options';
import { SOCKET_OPTION, noPositionals, parseCommandArgs, socketPath, stringOption, type ParsedArgs } from '../args';
import type { CliIO } from '../io';

type Level = 'ok' | 'warn' | 'FAIL';
interface Check {
  level: Level;
  what: string;
  fix?: string;
}

const OPTIONS = { ...SOCKET_OPTION, config: { type: 'string' } } as const;

function checkNode(): Check {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 20
    ? { level: 'ok', what: `node ${process.version}` }
    : { level: 'FAIL', what: `node ${process.version} is too old`, fix: 'install Node.js 20 or newer' };
}

function checkConfig(args: ParsedArgs, io: CliIO): Check {
  const config = stringOption(args, 'config');
  try {
    const options = parseAgentOptions(config ? ['--config', config] : [], io.env);
    return options.configPath
      ? { level: 'ok', what: `config ${options.configPath} is valid` }
      : { level: 'ok', what: `no config at ${DEFAULT_CONFIG_PATH}; defaults apply` };
  } catch (err) {
    return { level: 'FAIL', what: `config: ${(err as Error).message.split('\n')[0]}`, fix: 'correct the config file (see flockguard help agent)' };
  }
}

/** The agent's status, or the reason it could not be had. */
async function agentStatus(args: ParsedArgs, io: CliIO): Promise<{ status?: AgentStatus; error?: string }> {
  try {
    const { withAgent } = await import('../connect');
    return { status: await withAgent(args, io, (client) => client.status()) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * The node checks of src/troubleshoot/doctor.ts, run here and not in the agent: they read the whole
 * ruleset over netlink, which needs CAP_NET_ADMIN, and they must work when the agent is down.
 */
async function nodeReport(sock: string, status: AgentStatus | undefined): Promise<{ lines: string[]; ok: boolean }> {
  const { NftClient } = await import('../../kernel');
  const { doctor, formatDoctor } = await import('../../troubleshoot/doctor');
  let client;
  try {
    client = NftClient.open();
  } catch (err) {
    return { lines: [`FAIL  netlink: ${(err as Error).message}
      -> run flockguard doctor as root (it reads the ruleset over netlink)`], ok: false };
  }
  try {
    const report = await doctor(client, { socketPath: sock, status, dbPath: status?.dbPath });
    return { lines: formatDoctor(report), ok: report.ok };
  } finally {
    client.close();
  }
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('doctor', argv, OPTIONS);
  noPositionals('doctor', args);
  const sock = socketPath(args, io.env);
  const checks: Check[] = [checkNode(), checkConfig(args, io)];
  const agent = await agentStatus(args, io);
  checks.push(
    agent.status
      ? { level: 'ok', what: `agent ${agent.status.version} on ${agent.status.nodeName}, revision ${agent.status.revision}` }
      : { level: 'FAIL', what: agent.error ?? 'agent unreachable', fix: 'start the agent: systemctl start flockguard (or pass --socket PATH)' },
  );
  for (const c of checks) io.stdout.write(`${c.level.padEnd(4)}  ${c.what}${c.fix ? `\n      -> ${c.fix}` : ''}\n`);
  const node = await nodeReport(sock, agent.status);
  io.stdout.write(node.lines.join('\n') + '\n');
  return checks.some((c) => c.level === 'FAIL') || !node.ok ? 1 : 0;
}
