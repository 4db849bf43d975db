// flockguard doctor : checks the pieces flockguard depends on, each with the fix when it fails.
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
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

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

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

async function checkKernel(): Promise<Check> {
  if (await exists('/sys/module/nf_tables')) return { level: 'ok', what: 'nf_tables is loaded' };
  return { level: 'warn', what: 'nf_tables module not loaded yet', fix: 'modprobe nf_tables (the agent loads it on first use when it may)' };
}

async function checkSocket(sock: string): Promise<Check> {
  let stat;
  try {
    stat = await fs.stat(sock);
  } catch {
    return { level: 'FAIL', what: `no socket at ${sock}`, fix: 'start the agent: systemctl start flockguard (or pass --socket PATH)' };
  }
  if (!stat.isSocket()) return { level: 'FAIL', what: `${sock} is not a socket`, fix: 'remove it and restart the agent' };
  const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
  try {
    await fs.access(sock, fsConstants.W_OK);
  } catch {
    return { level: 'FAIL', what: `${sock} (mode ${mode}, gid ${stat.gid}) is not writable by you`, fix: "run as root or join the socket's group" };
  }
  const level: Level = (stat.mode & 0o007) !== 0 ? 'warn' : 'ok';
  const fix = level === 'warn' ? 'any local user can use the socket: set its mode to 0660 (systemd SocketMode=0660)' : undefined;
  return { level, what: `socket ${sock} mode ${mode} gid ${stat.gid}`, fix };
}

async function checkAgent(args: ParsedArgs, io: CliIO): Promise<Check[]> {
  try {
    const { withAgent } = await import('../connect');
    const status = await withAgent(args, io, (client) => client.status());
    const checks: Check[] = [{ level: 'ok', what: `agent ${status.version} on ${status.nodeName}, revision ${status.revision}` }];
    checks.push(
      status.inSync
        ? { level: 'ok', what: `kernel in sync (generation ${status.generation})` }
        : { level: 'FAIL', what: 'kernel not in sync with the current revision', fix: 'see journalctl -u flockguard; flockguard monitor shows repairs' },
    );
    for (const w of status.warnings) checks.push({ level: 'warn', what: w });
    const dbDir = path.dirname(status.dbPath);
    if (!(await exists(dbDir))) checks.push({ level: 'warn', what: `database directory ${dbDir} is not visible here` });
    return checks;
  } catch (err) {
    return [{ level: 'FAIL', what: (err as Error).message }];
  }
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('doctor', argv, OPTIONS);
  noPositionals('doctor', args);
  const sock = socketPath(args, io.env);
  const checks: Check[] = [checkNode(), checkConfig(args, io), await checkKernel(), await checkSocket(sock)];
  if (checks[3].level !== 'FAIL') checks.push(...(await checkAgent(args, io)));
  for (const c of checks) io.stdout.write(`${c.level.padEnd(4)}  ${c.what}${c.fix ? `\n      -> ${c.fix}` : ''}\n`);
  return checks.some((c) => c.level === 'FAIL') ? 1 : 0;
}
