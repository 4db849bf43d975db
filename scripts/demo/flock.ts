// flockguard inside a lab (scripts/lab): the agent runs as its own process in the lab's node
// namespace, exactly as `flockguard agent` runs on a node, and every other command is the CLI run
// in that namespace too. Shared by the end-to-end tests (test/e2e/flock*.test.ts) and the demo.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecResult, Lab } from '../lab/lab';

/** The compiled CLI entry next to this file (bin/flockguard does the same for dist/). */
export const CLI_ENTRY = join(__dirname, 'cli-entry.js');

/** Thrown when the agent does not come up or a CLI command fails; `code` is stable. */
export class FlockLabError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'FlockLabError';
    this.code = code;
  }
}

export interface FlockAgentOptions {
  /** The Calico node name the agent enforces host endpoints of. */
  nodeName: string;
  /** Directory for the socket and the database; a fresh temp dir when absent (removed by dispose()). */
  dir?: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The flockguard agent in a lab's node namespace, and the CLI pointed at its socket. */
export class FlockAgent {
  readonly dir: string;
  readonly socket: string;
  readonly db: string;
  readonly nodeName: string;
  private child: ChildProcess | undefined;
  private logText = '';
  private readonly ownsDir: boolean;
  private readonly logLevel: string;

  constructor(
    private readonly lab: Lab,
    options: FlockAgentOptions,
  ) {
    this.ownsDir = options.dir === undefined;
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'flockguard-lab-'));
    this.socket = join(this.dir, 'flockguard.sock');
    this.db = join(this.dir, 'flockguard.db');
    this.nodeName = options.nodeName;
    this.logLevel = options.logLevel ?? 'info';
  }

  /** The agent's stdout and stderr so far (JSON log lines), for failure messages. */
  get log(): string {
    return this.logText;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts `flockguard agent` in the node namespace and resolves once it answers `status`. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new FlockLabError('FLOCK_AGENT_RUNNING', `the agent already runs (pid ${this.pid})`);
    rmSync(this.socket, { force: true });
    const argv = [process.execPath, CLI_ENTRY, 'agent', '--db', this.db, '--socket', this.socket, '--node-name', this.nodeName, '--log-level', this.logLevel];
    const child = this.lab.spawn(this.lab.node, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (b: Buffer): void => {
      this.logText = (this.logText + b.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) {
        throw new FlockLabError('FLOCK_AGENT_EXITED', `flockguard agent exited during start (status ${child.exitCode}, signal ${child.signalCode}): ${this.logText.trim()}`);
      }
      if (existsSync(this.socket)) {
        const r = await this.cli(['status', '-o', 'json'], { allowFailure: true });
        if (r.stdout.trim().startsWith('{')) return;
      }
      if (Date.now() > deadline) {
        throw new FlockLabError('FLOCK_AGENT_NOT_READY', `flockguard agent did not answer within ${timeoutMs} ms: ${this.logText.trim()}`);
      }
      await sleep(100);
    }
  }

  /** Sends a signal to the agent and waits until it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child || !this.running) return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    child.kill(signal);
    const timer = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new FlockLabError('FLOCK_AGENT_STUCK', `flockguard agent did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs).unref(),
    );
    return Promise.race([exited, timer]);
  }

  /** Runs `flockguard ARGS --socket <ours>` in the node namespace; throws FLOCK_CLI_FAILED on a non-zero status unless allowFailure. */
  async cli(args: string[], options: { input?: string; allowFailure?: boolean } = {}): Promise<ExecResult> {
    const r = await this.lab.exec(this.lab.node, [process.execPath, CLI_ENTRY, ...args, '--socket', this.socket], {
      input: options.input,
      allowFailure: true,
    });
    if (r.code !== 0 && !options.allowFailure) {
      throw new FlockLabError('FLOCK_CLI_FAILED', `flockguard ${args.join(' ')} exited with ${r.code}: ${r.stderr.trim()}${r.stdout.trim() ? `\n${r.stdout.trim()}` : ''}`);
    }
    return r;
  }

  /** Writes YAML to a file in the agent's dir and runs `flockguard apply -f FILE`. */
  async apply(name: string, yaml: string): Promise<ExecResult> {
    const file = join(this.dir, name.endsWith('.yaml') ? name : `${name}.yaml`);
    writeFileSync(file, yaml);
    return this.cli(['apply', '-f', file]);
  }

  /** `flockguard explain -o json` for a TCP/UDP packet arriving on iif. */
  async explain(packet: { iif: string; src: string; dst: string; proto: 'tcp' | 'udp'; dport: number }): Promise<ExplainAnswer> {
    const r = await this.cli(['explain', '--iif', packet.iif, '--src', packet.src, '--dst', packet.dst, '--proto', packet.proto, '--dport', String(packet.dport), '-o', 'json']);
    return JSON.parse(r.stdout) as ExplainAnswer;
  }

  /** For signal handlers: kills the agent at once and removes the temp dir if it made it. */
  disposeSync(): void {
    if (this.running) this.child?.kill('SIGKILL');
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stops the agent (SIGKILL: the lab is going away) and removes the temp dir if it made it. */
  async dispose(): Promise<void> {
    if (this.running) await this.stop('SIGKILL').catch(() => undefined);
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What `flockguard explain -o json` prints (the fields the demo and tests read). */
export interface ExplainAnswer {
  verdict: string;
  summary?: string;
  path: Array<{ chain: string; rule: string; comment?: string; policy?: string; ruleIndex?: number; verdict: string }>;
}
