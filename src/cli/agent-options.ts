// `flockguard agent` options: flags, environment, config file (/etc/flockguard/config.yaml) and
// defaults, in that order of precedence. The result is what src/agent/main.ts runAgent() receives.
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { DEFAULT_SOCKET_PATH } from '../api/defaults';
import { parseCommandArgs, parseDuration, type Options } from './args';
import { CliError, UsageError } from './io';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Field names match src/agent/options.ts, so the result is handed to runAgent() as it is. */
export interface AgentOptions {
  /** The API socket path. */
  socket: string;
  /** Group given to the socket (name or gid as text); undefined keeps the agent's group. */
  socketGroup?: string;
  /** The SQLite revision store. */
  db: string;
  nodeName: string;
  /** Hook priority of the prerouting chain; -150 runs before kube-proxy's DNAT at -100. */
  priority: number;
  /** Full read-back of the kernel table every so often, in milliseconds. */
  resyncInterval: number;
  logLevel: LogLevel;
  /** The config file that was read, or undefined when none was found at the default path. */
  configPath?: string;
}

export const DEFAULT_CONFIG_PATH = '/etc/flockguard/config.yaml';
export const DEFAULT_DB_PATH = '/var/lib/flockguard/flockguard.db';
export const DEFAULT_PRIORITY = -150;
export const DEFAULT_RESYNC_INTERVAL_MS = 5 * 60_000;
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

const AGENT_FLAGS: Options = {
  config: { type: 'string' },
  socket: { type: 'string' },
  'socket-group': { type: 'string' },
  db: { type: 'string' },
  'node-name': { type: 'string' },
  priority: { type: 'string' },
  'resync-interval': { type: 'string' },
  'log-level': { type: 'string' },
};

/** Config file key -> flag name. */
const CONFIG_KEYS: Record<string, string> = {
  socket: 'socket',
  socketGroup: 'socket-group',
  db: 'db',
  nodeName: 'node-name',
  priority: 'priority',
  resyncInterval: 'resync-interval',
  logLevel: 'log-level',
};

export interface AgentOptionDeps {
  readFile?: (path: string) => string;
  hostname?: () => string;
}

type Raw = Partial<Record<string, string>>;

function configError(file: string, message: string): CliError {
  return new CliError('AGENT_CONFIG', `${file}: ${message}`, 1);
}

function loadConfig(file: string, explicit: boolean, readFile: (p: string) => string): Raw | undefined {
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return undefined;
    throw configError(file, `cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'}): check --config`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a config file exists
  const { parse } = require('yaml') as typeof import('yaml');
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw configError(file, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw configError(file, 'must be a mapping of keys to values');
  const raw: Raw = {};
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const flagName = CONFIG_KEYS[key];
    if (!flagName) throw configError(file, `unknown key "${key}"; known keys: ${Object.keys(CONFIG_KEYS).join(', ')}`);
    if (typeof value !== 'string' && typeof value !== 'number') throw configError(file, `${key}: must be a string or a number`);
    raw[flagName] = String(value);
  }
  return raw;
}

function validated(raw: Raw, origin: (flag: string) => string, hostname: () => string): Omit<AgentOptions, 'configPath'> {
  const priorityText = raw.priority ?? String(DEFAULT_PRIORITY);
  if (!/^-?\d+$/.test(priorityText) || Math.abs(Number(priorityText)) > 2 ** 31 - 1) {
    throw new UsageError(`agent: ${origin('priority')} ${JSON.stringify(priorityText)} must be a whole number such as -150`, 'agent');
  }
  const resync = raw['resync-interval'] === undefined ? DEFAULT_RESYNC_INTERVAL_MS : parseDuration(raw['resync-interval']);
  if (resync === undefined || resync < 1000) {
    throw new UsageError(`agent: ${origin('resync-interval')} ${JSON.stringify(raw['resync-interval'])} must be a duration of at least 1s, e.g. 5m`, 'agent');
  }
  const logLevel = (raw['log-level'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`agent: ${origin('log-level')} ${JSON.stringify(logLevel)} must be one of ${LOG_LEVELS.join(', ')}`, 'agent');
  }
  const nodeName = raw['node-name'] ?? hostname();
  if (nodeName === '') throw new UsageError(`agent: ${origin('node-name')} must not be empty`, 'agent');
  const options: Omit<AgentOptions, 'configPath'> = {
    socket: raw.socket ?? DEFAULT_SOCKET_PATH,
    db: raw.db ?? DEFAULT_DB_PATH,
    nodeName,
    priority: Number(priorityText),
    resyncInterval: resync,
    logLevel,
  };
  if (raw['socket-group'] !== undefined && raw['socket-group'] !== '') options.socketGroup = raw['socket-group'];
  return options;
}

/** Parses `flockguard agent` arguments; throws UsageError (exit 2) or CliError AGENT_CONFIG (exit 1). */
export function parseAgentOptions(argv: string[], env: NodeJS.ProcessEnv, deps: AgentOptionDeps = {}): AgentOptions {
  const args = parseCommandArgs('agent', argv, AGENT_FLAGS);
  if (args.positionals.length > 0) throw new UsageError(`agent: unexpected argument ${JSON.stringify(args.positionals[0])}`, 'agent');
  const flags = args.values as Raw;
  const configPath = flags.config ?? DEFAULT_CONFIG_PATH;
  const loaded = loadConfig(configPath, flags.config !== undefined, deps.readFile ?? ((p) => readFileSync(p, 'utf8')));
  const fromFile = loaded ?? {};
  const fromEnv: Raw = {};
  if (env.FLOCKGUARD_SOCKET) fromEnv.socket = env.FLOCKGUARD_SOCKET;
  if (env.FLOCKGUARD_DB) fromEnv.db = env.FLOCKGUARD_DB;
  const merged: Raw = { ...fromFile, ...fromEnv };
  for (const [k, v] of Object.entries(flags)) if (k !== 'config' && v !== undefined) merged[k] = v;
  const origin = (flag: string): string => {
    if (flags[flag] !== undefined || fromFile[flag] === undefined) return `--${flag}`;
    const key = Object.keys(CONFIG_KEYS).find((k) => CONFIG_KEYS[k] === flag) ?? flag;
    return `${configPath}: ${key}`;
  };
  const options: AgentOptions = validated(merged, origin, deps.hostname ?? os.hostname);
  if (loaded !== undefined) options.configPath = configPath;
  return options;
}
