// bin/flockguard's entry: finds the command, loads only that command's module, runs it, and turns
// any failure into one message on stderr that says what to do next, plus the exit code
// (usage errors 2; otherwise 1, or the command's own, e.g. diff's 2).
import { EXIT_FAILURE, EXIT_USAGE, UsageError, processIO, type CliIO } from './io';

interface CommandModule {
  run(argv: string[], io: CliIO): Promise<number>;
  ERROR_EXIT_CODE?: number;
}

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  apply: () => import('./commands/apply'),
  delete: () => import('./commands/delete'),
  get: () => import('./commands/get'),
  diff: () => import('./commands/diff'),
  validate: () => import('./commands/validate'),
  status: () => import('./commands/status'),
  history: () => import('./commands/history'),
  rollback: () => import('./commands/rollback'),
  netset: () => import('./commands/netset'),
  explain: () => import('./commands/explain'),
  counters: () => import('./commands/counters'),
  trace: () => import('./commands/trace'),
  monitor: () => import('./commands/monitor'),
  doctor: () => import('./commands/doctor'),
  uninstall: () => import('./commands/uninstall'),
  version: () => import('./commands/version'),
  help: () => import('./commands/help'),
  agent: () => import('./commands/agent'),
};

interface ErrorLike {
  message: string;
  code?: unknown;
  exitCode?: unknown;
  issues?: unknown;
}

/** The next step for agent error codes, unless the agent's message already names one. */
function hint(code: string, message: string): string {
  if (/\bflockguard \w|systemctl|journalctl/.test(message)) return '';
  if (code === 'NOT_FOUND') return " (flockguard get KIND lists what exists)";
  if (code === 'REVISION_NOT_FOUND') return ' (flockguard history lists the revisions)';
  if (code.startsWith('NFT_') || code === 'AGENT_INTERNAL') {
    return '; nothing was changed. See journalctl -u flockguard and flockguard status';
  }
  return '';
}

async function report(err: unknown, io: CliIO, exitCode: number): Promise<number> {
  const e = (err instanceof Error ? err : new Error(String(err))) as ErrorLike;
  if (typeof e.exitCode === 'number') {
    io.stderr.write(`flockguard: ${e.message}\n`);
    return e.exitCode;
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (Array.isArray(e.issues) && e.issues.length > 0) {
    const { printIssues } = await import('./documents');
    await printIssues(io, e.issues);
  }
  if (code === undefined) {
    io.stderr.write(`flockguard: unexpected error: ${e.message}; please report it with the command you ran\n`);
  } else {
    io.stderr.write(`flockguard: ${e.message}${hint(code, e.message)}\n`);
  }
  return exitCode;
}

/** Runs one command line (without "node" and the script path); resolves with the exit code. */
export async function main(argv: string[], io?: CliIO): Promise<number> {
  const owned = io ? undefined : processIO();
  const cliIO = io ?? (owned as CliIO);
  const [name, ...rest] = argv;
  try {
    if (name === '-h' || name === '--help') return await (await COMMANDS.help()).run([], cliIO);
    if (name === undefined) {
      const { overview } = await import('./usage');
      cliIO.stderr.write(overview());
      return EXIT_USAGE;
    }
    if (name === '--version') return await (await COMMANDS.version()).run([], cliIO);
    const load = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!load) return await report(new UsageError(`unknown command ${JSON.stringify(name)}`), cliIO, EXIT_USAGE);
    const command = await load();
    if (rest.includes('-h') || rest.includes('--help')) return await (await COMMANDS.help()).run([name], cliIO);
    try {
      return await command.run(rest, cliIO);
    } catch (err) {
      return await report(err, cliIO, command.ERROR_EXIT_CODE ?? EXIT_FAILURE);
    }
  } finally {
    owned?.release();
  }
}
