// flockguard status : the agent's state in ufw's "status verbose" spirit; -o json for tools.
import type { AgentStatus } from '../../api/service';
import { OUTPUT_OPTION, SOCKET_OPTION, noPositionals, outputFormat, parseCommandArgs } from '../args';
import { withAgent } from '../connect';
import type { CliIO } from '../io';

const OPTIONS = { ...OUTPUT_OPTION, ...SOCKET_OPTION } as const;

function human(s: AgentStatus): string {
  const rows: Array<[string, string]> = [
    ['agent', `${s.agentUp ? 'running' : 'down'} on node ${s.nodeName} (flockguard ${s.version})`],
    ['revision', `${s.revision === 0 ? 'none yet' : s.revision} (${s.resourceCount} resources)`],
    ['kernel', `${s.inSync ? 'in sync' : 'NOT in sync'}, generation ${s.generation}`],
    ['last commit', s.lastCommitTime ? `${s.lastCommitTime} (${(s.lastCommitDurationMs ?? 0).toFixed(1)} ms)` : 'none since start'],
    ['drift repairs', String(s.driftRepairs)],
    ...s.lastRepairs.map((r): [string, string] => ['  repaired', `${r.time} ${r.description}`]),
    ['socket', s.socketPath],
    ['database', s.dbPath],
    ...s.warnings.map((w): [string, string] => ['warning', w]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}\n`).join('');
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('status', argv, OPTIONS);
  noPositionals('status', args);
  const output = outputFormat('status', args, ['json'] as const);
  const status = await withAgent(args, io, (client) => client.status());
  io.stdout.write(output === 'json' ? JSON.stringify(status, null, 2) + '\n' : human(status));
  if (!status.inSync) {
    io.stderr.write(
      `flockguard: the kernel does not hold revision ${status.revision} exactly; the agent repairs this at its next resync. ` +
        'Watch it with flockguard monitor, or see journalctl -u flockguard\n',
    );
    return 1;
  }
  return 0;
}
