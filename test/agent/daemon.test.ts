// The agent as a daemon in a child process (it inherits this test run's private namespace): it tells
// systemd it is ready through $NOTIFY_SOCKET once the policy is in the kernel, and on SIGTERM it
// closes and exits 0, leaving the rules in place.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/api/client';
import { NftClient } from '../../src/kernel';
import { freshNetns } from '../support/kernel';

/** A unix datagram socket standing in for systemd's notify socket: prints what it receives. */
function notifyListener(path: string): { proc: ChildProcess; received: string[] } {
  const received: string[] = [];
  const proc = spawn('python3', ['-u', '-c', [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(path)})`,
    'print("listening", flush=True)',
    'while True:',
    '    print(s.recv(4096).decode().replace("\\n", " "), flush=True)',
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => received.push(...d.split('\n').filter((l) => l !== '')));
  return { proc, received };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const POLICY = `apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-lo, labels: {role: lab}}
spec: {node: node1, interfaceName: lo, expectedIPs: [127.0.0.1]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-web}
spec:
  selector: role == 'lab'
  preDNAT: true
  applyOnForward: true
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    destination: {ports: [80]}
`;

describe('flockguard agent as a daemon @kernel', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    freshNetns();
    dir = mkdtempSync(join(tmpdir(), 'flockguard-daemon-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('notifies READY=1, and on SIGTERM exits 0 leaving the table in place', async () => {
    const notifySocket = join(dir, 'notify.sock');
    const listener = notifyListener(notifySocket);
    children.push(listener.proc);
    await until('the notify listener', () => listener.received.includes('listening'));
    const options = { socket: join(dir, 'api.sock'), db: join(dir, 'state.db'), nodeName: 'node1', priority: -150, resyncInterval: 60_000, logLevel: 'info' };
    const main = join(__dirname, '..', '..', 'src', 'agent', 'main.js');
    const agent = spawn(process.execPath, ['-e', `require(${JSON.stringify(main)}).runAgent(${JSON.stringify(options)}).then((a) => a.closed)`], {
      env: { ...process.env, NOTIFY_SOCKET: notifySocket }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(agent);
    let logs = '';
    agent.stdout!.setEncoding('utf8').on('data', (d: string) => (logs += d));
    agent.stderr!.setEncoding('utf8').on('data', (d: string) => (logs += d));

    await until('READY=1', () => listener.received.some((l) => /(^| )READY=1( |$)/.test(l)));
    assert.ok(listener.received.some((l) => l.includes(`MAINPID=${agent.pid}`)), 'the agent is named as the main process');
    const api = await ApiClient.connect(options.socket);
    const res = await api.apply({ documents: [{ fileName: 'p.yaml', text: POLICY }], dryRun: false, skipUnsupported: false });
    api.close();
    assert.equal(res.kernelApplied, true);

    agent.kill('SIGTERM');
    const [code] = await once(agent, 'exit');
    assert.equal(code, 0, logs);
    assert.ok(listener.received.some((l) => l.includes('STOPPING=1')));
    const line = logs.split('\n').find((l) => l.includes('"msg":"commit:'));
    assert.ok(line && JSON.parse(line).level === 'info', 'one JSON log line per commit');

    const c = NftClient.open();
    try {
      const { ruleset } = await c.dumpTable('inet', 'flockguard');
      assert.ok(ruleset, 'the table stays after the agent stopped');
      assert.ok([...ruleset.rules.values()].flat().some((r) => r.comment === 'policy=allow-web rule=0 action=Allow'));
    } finally {
      c.close();
    }
  });
});
