// flockguard uninstall : deletes table inet flockguard on purpose. The agent never does this itself
// (on SIGTERM it leaves the rules, so the node stays protected across restarts); this is the one
// documented way to drop the firewall.
import { SOCKET_OPTION, flag, noPositionals, parseCommandArgs } from '../args';
import type { CliIO } from '../io';

const OPTIONS = { ...SOCKET_OPTION, force: { type: 'boolean' } } as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('uninstall', argv, OPTIONS);
  noPositionals('uninstall', args);
  if (!flag(args, 'force') && (await agentAnswers(args, io))) {
    io.stderr.write(
      'flockguard: the agent is running and would put the table back as drift repair: ' +
        'stop it first (systemctl disable --now flockguard), or pass --force\n',
    );
    return 1;
  }
  const { uninstall } = await import('../../agent/main');
  const removed = await uninstall();
  io.stdout.write(removed ? 'table inet flockguard deleted\n' : 'table inet flockguard was not there; nothing to do\n');
  return 0;
}

async function agentAnswers(args: Parameters<typeof flag>[0], io: CliIO): Promise<boolean> {
  const { withAgent } = await import('../connect');
  try {
    await withAgent(args, io, (client) => client.status());
    return true;
  } catch {
    return false;
  }
}
