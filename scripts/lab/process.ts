// Running commands for the lab, inside a lab namespace or in the caller's own, and the lab's error type.
import { spawn, spawnSync } from 'node:child_process';

/** Every lab failure carries a stable code and names what failed. */
export class LabError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the command was killed by a signal. */
  code: number | null;
}

export interface ExecOptions {
  input?: string;
  /** Resolve with the result instead of throwing LAB_EXEC_FAILED when the status is not 0. */
  allowFailure?: boolean;
}

/** The argv that runs argv inside network namespace ns (`ip netns exec`). */
export function inNamespace(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** Runs argv, collecting its output; throws LAB_EXEC_FAILED naming the command on a non-zero status. */
export function run(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new LabError('LAB_EXEC_FAILED', `cannot run ${argv.join(' ')}: ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      const result = { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code };
      if (code === 0 || options.allowFailure) resolve(result);
      else reject(new LabError('LAB_EXEC_FAILED', `${argv.join(' ')} exited with ${code}: ${result.stderr.trim()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Synchronous variant for exit and signal handlers, where nothing asynchronous runs any more. */
export function runSync(argv: string[]): ExecResult {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status };
}
