// systemd readiness (Type=notify). The protocol is one datagram of `KEY=value` lines to the
// AF_UNIX SOCK_DGRAM socket named by $NOTIFY_SOCKET (sd_notify(3)); Node cannot open datagram unix
// sockets (nodejs/node#29339), so this runs `systemd-notify`, which sends it for us. Because the
// sender is then a child process, the unit needs NotifyAccess=all (scripts/flockguard.service), and
// `--pid` names the agent as the main process. When NOTIFY_SOCKET is unset (not under systemd,
// tests) nothing is sent.
import { execFile } from 'node:child_process';

export function sdNotify(state: Record<string, string>, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (!env.NOTIFY_SOCKET) return Promise.resolve(false);
  const args = [`--pid=${process.pid}`, ...Object.entries(state).map(([k, v]) => `${k}=${v}`)];
  return new Promise((resolve) => {
    execFile('systemd-notify', args, { env, timeout: 5000 }, (err) => resolve(!err));
  });
}
