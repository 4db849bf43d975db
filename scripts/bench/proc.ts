// Processes the suite drives: nft, the flockguard CLI and the agent, each bounded by a timeout, and
// what /proc says about the agent (RSS, CPU time).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export class BenchError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export interface Timed {
  ms: number;
  stdout: string;
}

/** Runs argv to completion; throws BenchError (BENCH_TIMEOUT, BENCH_COMMAND_FAILED) naming the command. */
/** stderrToo: stdout and stderr together (strace writes to stderr). */
export function runTimed(argv: string[], options: { input?: string; timeoutMs: number; stderrToo?: boolean }): Timed {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { input: options.input, encoding: 'utf8', maxBuffer: 1 << 30, timeout: options.timeoutMs, killSignal: 'SIGKILL' });
  const ms = performance.now() - t0;
  const what = argv.slice(0, 6).join(' ');
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw new BenchError('BENCH_TIMEOUT', `${what}: no answer in ${options.timeoutMs / 1000} s`);
  if (r.error) throw new BenchError('BENCH_COMMAND_FAILED', `${what}: ${r.error.message}`);
  if (r.status !== 0) throw new BenchError('BENCH_COMMAND_FAILED', `${what}: exit ${r.status}: ${(r.stderr || r.stdout).trim().slice(0, 600)}`);
  return { ms, stdout: options.stderrToo ? `${r.stdout}${r.stderr}` : r.stdout };
}

export const nft = (args: string[], timeoutMs = 300_000, input?: string): Timed => runTimed(['nft', ...args], { timeoutMs, input });

/** The CLI, as bin/flockguard runs it, from this build. */
export function cliPath(): string {
  return join(__dirname, 'cli.js');
}

export function cli(args: string[], socket: string, timeoutMs = 600_000): Timed {
  return runTimed([process.execPath, cliPath(), ...args, '--socket', socket], { timeoutMs });
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** utime + stime of a process, in milliseconds (proc(5): fields 14 and 15, in clock ticks). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** `flockguard agent` as a child process of the suite. */
export class AgentProcess {
  private log = '';

  private constructor(readonly child: ChildProcess, readonly socket: string, readonly db: string) {
    child.stdout?.on('data', (d: Buffer) => this.keep(d));
    child.stderr?.on('data', (d: Buffer) => this.keep(d));
  }

  get pid(): number {
    return this.child.pid!;
  }

  private keep(d: Buffer): void {
    this.log = (this.log + d.toString('utf8')).slice(-20_000);
  }

  tail(): string {
    return this.log.split('\n').slice(-8).join('\n');
  }

  /** Starts the agent and resolves when its API socket exists. */
  static async start(dir: string, options: { argvPrefix?: string[]; nodeName: string; cpuProfileDir?: string; timeoutMs?: number }): Promise<AgentProcess> {
    const socket = join(dir, 'agent.sock');
    const db = join(dir, 'agent.db');
    const node = [process.execPath, ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [])];
    const argv = [...(options.argvPrefix ?? []), ...node, cliPath(), 'agent', '--socket', socket, '--db', db,
      '--node-name', options.nodeName, '--resync-interval', '24h', '--log-level', 'warn'];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const agent = new AgentProcess(child, socket, db);
    const deadline = performance.now() + (options.timeoutMs ?? 30_000);
    while (!existsSync(socket)) {
      if (child.exitCode !== null) throw new BenchError('BENCH_AGENT_EXITED', `the agent exited (${child.exitCode}) before serving: ${agent.tail()}`);
      if (performance.now() > deadline) {
        await agent.stop();
        throw new BenchError('BENCH_TIMEOUT', 'the agent did not open its socket in time');
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return agent;
  }

  /** SIGTERM (the table stays, as in production), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
