// The CLI as a separate process, as bin/flockguard runs it: offline commands load no gRPC, exit
// codes reach the shell, and a real SIGINT ends `trace` cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { startFakeAgent, type RunningAgent } from '../api/helpers';
import { ADMINS, writeFiles } from './helpers';

const MAIN = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

/** The body of bin/flockguard, pointed at this build's main.js. */
const BIN = `require(${JSON.stringify(MAIN)}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;

/** Runs node with a script asynchronously (the fake agent in this process must keep serving). */
function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a command in a child and reports its exit code and whether @grpc/grpc-js was loaded. */
async function loadedModules(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; grpc: boolean }> {
  const script =
    `require(${JSON.stringify(MAIN)}).main(${JSON.stringify(argv)}).then((c) => {` +
    `const grpc = Object.keys(require.cache).some((k) => k.includes('@grpc/grpc-js'));` +
    `process.stdout.write('\\n' + JSON.stringify({ c, grpc })); process.exitCode = c; })`;
  const r = await runNode(['-e', script], env);
  const last = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { c: number; grpc: boolean };
  assert.equal(r.code, last.c, r.stderr);
  return { code: last.c, grpc: last.grpc };
}

describe('cli: as a process', () => {
  let running: RunningAgent;

  before(async () => {
    running = await startFakeAgent();
    writeFiles(running.dir, { 'policy/a.yaml': ADMINS });
  });

  after(async () => {
    await running.stop();
  });

  it('validate, help and version do not load grpc; status does', async () => {
    const file = path.join(running.dir, 'policy', 'a.yaml');
    assert.deepEqual(
      [await loadedModules(['validate', '-f', file]), await loadedModules(['help']), await loadedModules(['version'])].map((r) => [r.code, r.grpc]),
      [
        [0, false],
        [0, false],
        [0, false],
      ],
    );
    const status = await loadedModules(['status'], { FLOCKGUARD_SOCKET: running.socketPath });
    assert.deepEqual([status.code, status.grpc], [0, true]);
  });

  it('exit codes reach the shell', async () => {
    const file = path.join(running.dir, 'policy', 'a.yaml');
    const run = async (argv: string[]): Promise<number | null> => (await runNode(['-e', BIN, ...argv], { FLOCKGUARD_SOCKET: running.socketPath })).code;
    assert.equal(await run(['apply', '-f', file, '--detailed-exitcode']), 2);
    assert.equal(await run(['apply', '-f', file, '--detailed-exitcode']), 0);
    assert.equal(await run(['diff', '-f', file]), 0);
    assert.equal(await run(['get', 'tier', 'x']), 1);
    assert.equal(await run(['get']), 2);
  });

  it('Ctrl-C (SIGINT) ends trace with exit 0', async () => {
    const child = spawn(process.execPath, ['-e', BIN, 'trace', '--timeout', '2m'], {
      env: { ...process.env, FLOCKGUARD_SOCKET: running.socketPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('\n')) resolve();
      }),
    );
    const startedBefore = running.agent.traceAborted;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /^trace stopped: \d+ lines?\n$/);
    const deadline = Date.now() + 2000;
    while (running.agent.traceAborted === startedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(running.agent.traceAborted, startedBefore + 1, 'the agent ended its trace');
  });
});
