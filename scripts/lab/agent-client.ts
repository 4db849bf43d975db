// The parent's handle on one lab agent: starts it in a namespace, sends requests, matches responses.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import * as readline from 'node:readline';
import type { AgentRequest, AgentResponse } from './agent-protocol';
import { inNamespace, LabError } from './process';

const STDERR_KEEP = 4096;

export class AgentHandle {
  readonly ns: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, { resolve: (r: AgentResponse) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderrTail = '';
  private exited: Promise<void>;
  private exitError: LabError | undefined;

  private constructor(ns: string) {
    this.ns = ns;
    const argv = inNamespace(ns, [process.execPath, join(__dirname, 'agent.js')]);
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => undefined);
    this.child.stderr.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-STDERR_KEEP);
    });
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => this.fail(`cannot start: ${e.message}`));
      this.child.on('close', (code, signal) => {
        this.fail(`exited (status ${code}, signal ${signal})`);
        resolve();
      });
    });
  }

  static start(ns: string): AgentHandle {
    return new AgentHandle(ns);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends one request; rejects with the agent's error code, or LAB_AGENT_EXITED. */
  request<T extends AgentResponse['op']>(req: AgentRequest): Promise<Extract<AgentResponse, { op: T }>> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => {
          if (r.op === 'error') reject(new LabError(r.code, `lab agent in ${this.ns}: ${req.op} failed: ${r.message}`));
          else resolve(r as Extract<AgentResponse, { op: T }>);
        },
        reject,
      });
      this.child.stdin.write(JSON.stringify({ id, ...req }) + '\n');
    });
  }

  /** Closes the agent's stdin (it exits by itself), then kills it if it lingers. */
  async stop(graceMs = 2000): Promise<void> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** For exit handlers: kill at once. */
  killNow(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private onLine(line: string): void {
    const response = JSON.parse(line) as AgentResponse;
    const waiter = this.pending.get(response.id);
    if (!waiter) return;
    this.pending.delete(response.id);
    waiter.resolve(response);
  }

  private fail(why: string): void {
    this.exitError ??= new LabError('LAB_AGENT_EXITED', `lab agent in ${this.ns} ${why}; stderr: ${this.stderrTail.trim()}`);
    for (const waiter of this.pending.values()) waiter.reject(this.exitError);
    this.pending.clear();
  }
}
