// Socket options npm `netlink` cannot set (SO_SNDBUFFORCE, SO_RCVBUFFORCE, NETLINK_EXT_ACK,
// NETLINK_CAP_ACK, NETLINK_NO_ENOBUFS), set on its socket by file descriptor through our own tiny
// addon (native/sockopt.c). The binding does not expose its fd, so we find it the way `ss` would:
// the socket's port id names its row in /proc/self/net/netlink, whose inode names the fd in
// /proc/self/fd ("socket:[inode]"). The addon is optional: when it was not built, callers fall back
// to the plain options and a warning with code NETLINK_NATIVE_MISSING is emitted once.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { errnoName } from './errno';

// include/uapi/asm-generic/socket.h
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
// include/linux/socket.h and include/uapi/linux/netlink.h
export const SOL_NETLINK = 270;
export const NETLINK_NO_ENOBUFS = 5;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

const EPERM = 1;

/** Failures of this module. `code`: NETLINK_NATIVE_MISSING, NETLINK_FD_NOT_FOUND or NETLINK_SOCKOPT. */
export class SocketOptionError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly errno?: number,
  ) {
    super(message);
  }

  /** The errno name ("EPERM") of a failed setsockopt/getsockopt. */
  get errnoName(): string | undefined {
    return this.errno === undefined ? undefined : errnoName(this.errno);
  }

  get isPermissionDenied(): boolean {
    return this.errno === EPERM;
  }
}

/** One row of /proc/self/net/netlink (net/netlink/af_netlink.c `netlink_seq_show`). */
export interface NetlinkSocketEntry {
  protocol: number;
  portId: number;
  /** The first 32 multicast groups, as a bitmask. */
  groups: number;
  rmem: number;
  wmem: number;
  /** Messages the kernel dropped because the receive buffer was full (counted even with NO_ENOBUFS). */
  drops: number;
  inode: number;
}

/** The netlink sockets of this process's network namespace. */
export function readNetlinkSockets(): NetlinkSocketEntry[] {
  const lines = readFileSync('/proc/self/net/netlink', 'utf8').split('\n').slice(1);
  const out: NetlinkSocketEntry[] = [];
  for (const line of lines) {
    // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    out.push({
      protocol: Number(f[1]),
      portId: Number(f[2]),
      groups: parseInt(f[3] ?? '0', 16),
      rmem: Number(f[4]),
      wmem: Number(f[5]),
      drops: Number(f[8]),
      inode: Number(f[9]),
    });
  }
  return out;
}

/** The /proc/self/net/netlink row of the socket bound to `portId` for `protocol`. */
export function findNetlinkSocket(protocol: number, portId: number): NetlinkSocketEntry {
  const entry = readNetlinkSockets().find((e) => e.protocol === protocol && e.portId === portId);
  if (!entry) {
    throw new SocketOptionError(`no netlink socket of protocol ${protocol} with port id ${portId} in /proc/self/net/netlink`, 'NETLINK_FD_NOT_FOUND');
  }
  return entry;
}

/** The file descriptor, in this process, of the netlink socket bound to `portId` for `protocol`. */
export function findNetlinkSocketFd(protocol: number, portId: number): number {
  const link = `socket:[${findNetlinkSocket(protocol, portId).inode}]`;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`) === link) return Number(name);
    } catch {
      // The fd was closed while we listed the directory (readdir's own fd among them).
    }
  }
  throw new SocketOptionError(`netlink socket with port id ${portId} (${link}) is not open in this process`, 'NETLINK_FD_NOT_FOUND');
}

interface NativeSockopt {
  setsockoptInt(fd: number, level: number, name: number, value: number): number;
  getsockoptInt(fd: number, level: number, name: number): [number, number];
}

let native: NativeSockopt | undefined;
let missing: SocketOptionError | undefined;

/** The compiled addon: $FLOCKGUARD_NATIVE_ADDON, else native/build/Release/ of the enclosing checkout. */
function addonPath(): string | undefined {
  const fromEnv = process.env.FLOCKGUARD_NATIVE_ADDON;
  if (fromEnv) return fromEnv;
  // Compiled code lives at different depths (dist/src/netlink, .build/x/src/netlink): walk up.
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'native', 'binding.gyp'))) {
      return path.join(dir, 'native', 'build', 'Release', 'flockguard_sockopt.node');
    }
  }
  return undefined;
}

function loadNative(): NativeSockopt | undefined {
  if (native || missing) return native;
  const file = addonPath();
  try {
    if (!file) throw new Error('native/binding.gyp not found above ' + __dirname);
    const mod = { exports: {} };
    process.dlopen(mod, file);
    native = mod.exports as NativeSockopt;
  } catch (err) {
    missing = new SocketOptionError(
      `native socket-option addon not available (${(err as Error).message}); using plain SO_SNDBUF/SO_RCVBUF, ` +
        'no extended ACKs, no NETLINK_NO_ENOBUFS. Build it with `npm run build:native` (needs a C compiler, make, python3)',
      'NETLINK_NATIVE_MISSING',
    );
    process.emitWarning(missing.message, { code: missing.code });
  }
  return native;
}

/** Why the addon could not be loaded, or undefined when it is available. Loads it on first call. */
export function nativeSocketOptionsMissing(): SocketOptionError | undefined {
  loadNative();
  return missing;
}

function requireNative(): NativeSockopt {
  const n = loadNative();
  if (!n) throw missing as SocketOptionError;
  return n;
}

/** setsockopt(fd, level, name, &value, sizeof(int)). */
export function setSocketOption(fd: number, level: number, name: number, value: number): void {
  const errno = requireNative().setsockoptInt(fd, level, name, value);
  if (errno !== 0) {
    throw new SocketOptionError(
      `setsockopt(fd ${fd}, level ${level}, option ${name}, ${value}): ${errnoName(errno)}`,
      'NETLINK_SOCKOPT',
      errno,
    );
  }
}

/** getsockopt(fd, level, name) of an int option. */
export function getSocketOption(fd: number, level: number, name: number): number {
  const [errno, value] = requireNative().getsockoptInt(fd, level, name);
  if (errno !== 0) {
    throw new SocketOptionError(`getsockopt(fd ${fd}, level ${level}, option ${name}): ${errnoName(errno)}`, 'NETLINK_SOCKOPT', errno);
  }
  return value;
}
