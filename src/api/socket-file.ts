// The API socket's file: who may connect is decided by its mode and group (the kernel checks write
// permission on connect(2), see unix(7) "Pathname socket ownership and permissions"). We create it
// under a restrictive umask so there is no moment at which it is wider than asked, then chown/chmod.
import { promises as fs, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export class SocketFileError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SocketFileError';
    this.code = code;
  }
}

/** A group name or numeric id to a gid, through /etc/group (Node has no getgrnam). */
export function resolveGroup(group: string | number, groupFile = '/etc/group'): number {
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    text = '';
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new SocketFileError(
    'SOCKET_GROUP_UNKNOWN',
    `socket group "${group}" does not exist: create it (groupadd --system ${group}) or set --socket-group to an existing group`,
  );
}

/**
 * The socket group's members must be able to enter the directory. systemd's RuntimeDirectory=
 * creates /run/flockguard as root:root 0750, which would lock them out; a private directory of
 * ours (no access for others) is handed to the group with search permission. Shared directories
 * (/run, /tmp: open to others, or owned by someone else) are left alone.
 */
async function openDirectoryToGroup(dir: string, gid: number, createdByUs: boolean): Promise<void> {
  const stat = await fs.stat(dir);
  const ours = stat.uid === process.geteuid?.();
  if (!createdByUs && (!ours || (stat.mode & 0o007) !== 0)) return;
  if (stat.gid !== gid) await fs.chown(dir, -1, gid);
  if ((stat.mode & 0o010) === 0) await fs.chmod(dir, (stat.mode & 0o7777) | 0o010);
}

/** True when something accepts connections on the socket path. */
function isListening(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Makes the path ready for listen(): creates a missing parent directory (0750, owned by the socket
 * group so that its members can reach the socket inside) and removes a stale socket
 * left by a crashed agent. Refuses when another process still listens there, or when the path is
 * not a socket (never delete a user's regular file).
 */
export async function prepareSocketPath(socketPath: string, gid: number | undefined): Promise<void> {
  const dir = path.dirname(socketPath);
  const created = await fs.mkdir(dir, { recursive: true, mode: 0o750 });
  if (gid !== undefined) await openDirectoryToGroup(dir, gid, created !== undefined);
  let stat;
  try {
    stat = await fs.lstat(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) {
    throw new SocketFileError('SOCKET_PATH_TAKEN', `${socketPath} exists and is not a socket: remove it or choose another --socket path`);
  }
  if (await isListening(socketPath)) {
    throw new SocketFileError(
      'SOCKET_IN_USE',
      `another process is serving ${socketPath}: stop it (systemctl stop flockguard) or choose another --socket path`,
    );
  }
  await fs.unlink(socketPath);
}

/** listen() with the socket created 0600, then given its group and final mode. */
export async function listenOnSocketFile(
  server: net.Server,
  socketPath: string,
  mode: number,
  gid: number | undefined,
): Promise<void> {
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previous);
  }
  if (gid !== undefined) await fs.chown(socketPath, -1, gid);
  await fs.chmod(socketPath, mode);
}
