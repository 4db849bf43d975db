// What `flockguard agent` is started with (the CLI parses the flags into this).
import type { LogLevel } from './logger';

export interface AgentOptions {
  /** The API's unix socket path. */
  socket: string;
  /** The SQLite revision store. */
  db: string;
  /** This node's name (HostEndpoint.spec.node); defaults to the host name. */
  nodeName: string;
  /** Priority of the prerouting base chain. */
  priority: number;
  /** Full read-back of our table every so often, in ms (0: never). */
  resyncInterval: number;
  logLevel: LogLevel;
  /** Group (name or gid) that may use the socket. */
  socketGroup?: string | number;
}

export const DEFAULT_AGENT_OPTIONS: AgentOptions = {
  socket: '/run/flockguard/flockguard.sock',
  db: '/var/lib/flockguard/state.db',
  nodeName: '',
  priority: -150,
  resyncInterval: 5 * 60_000,
  logLevel: 'info',
};
