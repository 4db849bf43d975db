// The CLI end to end: `flockguard agent` started as its own process (as systemd starts it) in this
// run's private network namespace, driven by the other commands, with the kernel as the oracle.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { POLICY } from '../agent/fixtures';
import { freshNetns, nft } from '../support/kernel';
import { tempDir } from '../api/helpers';
import { runCli, writeFiles } from './helpers';

const MAIN = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const BIN = `require(${JSON.stringify(MAIN)}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;

function table(): string {
  try {
    return nft(['list', 'table', 'inet', 'flockguard']);
  } catch {
    return '';
  }
}

describe('cli: end to end with the agent process @kernel', () => {
  let dir: string;
  let agent: ChildProcess;
  let agentLog = '';
  const cli = (argv: string[], stdin?: string): ReturnType<typeof runCli> =>
    runCli(argv, { stdin, env: { FLOCKGUARD_SOCKET: path.join(dir, 'run', 'flockguard.sock') } });

  before(async () => {
    freshNetns();
    dir = tempDir('e2e');
    writeFiles(dir, {
      'config.yaml': 'nodeName: node1\nresyncInterval: 1m\nlogLevel: warn\n',
      'policy/lab.yaml': POLICY,
    });
    const flags = ['--config', path.join(dir, 'config.yaml'), '--socket', path.join(dir, 'run', 'flockguard.sock'), '--db', path.join(dir, 'state.db')];
    agent = spawn(process.execPath, ['-e', BIN, 'agent', ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout?.on('data', (d: Buffer) => (agentLog += d.toString()));
    agent.stderr?.on('data', (d: Buffer) => (agentLog += d.toString()));
    const deadline = Date.now() + 20_000;
    while ((await cli(['status'])).code !== 0) {
      if (Date.now() > deadline || agent.exitCode !== null) throw new Error(`the agent did not come up:\n${agentLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    if (agent.exitCode === null) {
      agent.kill('SIGKILL');
      await new Promise((r) => agent.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('apply puts the policy in the kernel; again it changes nothing', async () => {
    const file = path.join(dir, 'policy');
    const first = await cli(['apply', '-f', file, '--detailed-exitcode']);
    assert.equal(first.code, 2, first.stderr);
    assert.match(first.stdout, /^globalnetworkpolicy\.projectcalico\.org\/deny-blocked created$/m);
    assert.match(table(), /policy=deny-blocked rule=1 action=Allow/);
    const again = await cli(['apply', '-f', file, '--detailed-exitcode', '-o', 'json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).changed, false);
  });

  it('get -o yaml applies back unchanged; diff agrees', async () => {
    const got = await cli(['get', 'all', '-o', 'yaml']);
    assert.equal(got.code, 0, got.stderr);
    const back = await cli(['apply', '-f', '-', '--detailed-exitcode'], got.stdout);
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.equal((await cli(['diff', '-f', '-'], got.stdout)).code, 0);
    const edited = await cli(['diff', '-f', '-'], POLICY.replace('ports: [80]', 'ports: [8080]'));
    assert.equal(edited.code, 1);
    assert.match(edited.stdout, /^-\s+- 80$/m);
    assert.match(edited.stdout, /^\+\s+- 8080$/m);
  });

  it('status is in sync; history records the claimed caller', async () => {
    const status = JSON.parse((await cli(['status', '-o', 'json'])).stdout);
    assert.equal(status.inSync, true);
    assert.equal(status.nodeName, 'node1');
    const history = JSON.parse((await cli(['history', '-o', 'json'])).stdout);
    assert.equal(history.length, 1);
    assert.equal(history[0].actor.pid, process.pid);
  });

  it('counters count real packets per rule; explain names the deciding rule', async () => {
    const before = JSON.parse((await cli(['counters', 'deny-blocked', '-o', 'json'])).stdout) as { counters: Array<{ ruleIndex?: number; packets: number }> };
    const allowBefore = before.counters.find((c) => c.ruleIndex === 1)?.packets ?? -1;
    assert.ok(allowBefore >= 0, JSON.stringify(before));
    // A SYN to 127.0.0.1:80 crosses prerouting on lo and matches the Allow rule (nothing listens: RST).
    await new Promise<void>((resolve) => {
      const s = net.connect(80, '127.0.0.1');
      s.on('error', () => resolve());
      s.on('connect', () => {
        s.destroy();
        resolve();
      });
    });
    const after = JSON.parse((await cli(['counters', 'deny-blocked', '-o', 'json'])).stdout) as typeof before;
    assert.ok((after.counters.find((c) => c.ruleIndex === 1)?.packets ?? 0) > allowBefore, JSON.stringify(after));

    const explained = await cli(['explain', '--iif', 'lo', '--src', '10.1.2.3', '--dst', '127.0.0.1', '--proto', 'tcp', '--dport', '80', '-o', 'json']);
    assert.equal(explained.code, 0, explained.stderr);
    const result = JSON.parse(explained.stdout) as { verdict: string; path: Array<{ policy?: string; ruleIndex?: number }> };
    assert.equal(result.verdict, 'drop');
    assert.ok(result.path.some((s) => s.policy === 'deny-blocked' && s.ruleIndex === 0), explained.stdout);
  });

  it('delete and rollback change the kernel table', async () => {
    const del = await cli(['delete', 'gnp', 'deny-blocked']);
    assert.equal(del.code, 0, del.stderr);
    assert.doesNotMatch(table(), /policy=deny-blocked/);
    const back = await cli(['rollback']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(table(), /policy=deny-blocked rule=0 action=Deny/);
  });

  it('uninstall refuses while the agent runs, and the table stays', async () => {
    const r = await cli(['uninstall']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /stop it first \(systemctl disable --now flockguard\)/);
    assert.match(table(), /policy=deny-blocked/);
  });

  it('SIGTERM stops the agent with exit 0 and leaves the rules in place', async () => {
    agent.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => agent.once('exit', (c) => r(c)));
    assert.equal(code, 0, agentLog);
    assert.match(table(), /policy=deny-blocked/);
    const down = await cli(['status']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the agent/);
  });

  it('uninstall, once the agent is down, deletes only our table', async () => {
    nft(['add', 'table', 'ip', 'bystander']);
    const r = await cli(['uninstall']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'table inet flockguard deleted\n');
    assert.equal(table(), '');
    assert.match(nft(['list', 'tables']), /table ip bystander/);
    assert.equal((await cli(['uninstall'])).stdout, 'table inet flockguard was not there; nothing to do\n');
  });
});
