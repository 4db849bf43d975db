// Shared pieces of the flockguard end-to-end tests (flock*.test.ts): the lab with the agent in its
// node namespace, the policies the tests apply, reachability probes, and a TCP connection held open
// from a lab client (to prove established flows survive a policy change).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as readline from 'node:readline';
import { Lab, type ConnectOutcome, type KubeProxyMode, type LabHost } from '../../scripts/lab/lab';
import { FlockAgent } from '../../scripts/demo/flock';

/** The node name the agent runs as; the example's HostEndpoint names it. */
export const NODE_NAME = 'node-1';
/** A dropped connection shows as a timeout; keep it short, the lab answers in a few ms. */
export const DROP_MS = 400;
/** How long a connection that must get through may take (generous: CI machines are busy). */
export const REACH_MS = 3000;

export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'examples', 'prednat-nodeport.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`examples/prednat-nodeport.yaml not found above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** The example users read: eth0 HEP of node-1, allowed-clients set, allow policy, deny-all. */
export function examplePolicy(): string {
  return readFileSync(join(repoRoot(), 'examples', 'prednat-nodeport.yaml'), 'utf8');
}

export interface FlockLab {
  lab: Lab;
  agent: FlockAgent;
}

/** A lab (IPv4 and IPv6) with the flockguard agent running in its node namespace. */
export async function startFlockLab(mode: KubeProxyMode): Promise<FlockLab> {
  const lab = await Lab.create({ kubeProxyMode: mode, ipv6: true });
  const agent = new FlockAgent(lab, { nodeName: NODE_NAME, logLevel: 'warn' });
  try {
    await agent.start();
  } catch (err) {
    await agent.dispose();
    await lab.destroy();
    throw err;
  }
  return { lab, agent };
}

export async function stopFlockLab(f: FlockLab | undefined): Promise<void> {
  if (!f) return;
  await f.agent.dispose();
  await f.lab.destroy();
}

/** Deletes every resource the agent stores, so each test starts from an empty policy. */
export async function clearPolicy(agent: FlockAgent): Promise<void> {
  const names = (await agent.cli(['get', 'all', '-o', 'name'])).stdout.split('\n').filter(Boolean);
  const byKind = new Map<string, string[]>();
  for (const ref of names) {
    const [kind, name] = ref.split('/');
    const k = kind.split('.')[0];
    if (k === 'tier' && name === 'default') continue;
    byKind.set(k, [...(byKind.get(k) ?? []), name]);
  }
  for (const [kind, list] of byKind) await agent.cli(['delete', kind, ...list]);
}

export interface Target {
  what: string;
  address: string;
  port: number;
}

/** Every way in to the Service from outside: NodePort, external IP, LB IP, over IPv4 and IPv6. */
export function serviceTargets(lab: Lab): Target[] {
  const v6 = (a: string | undefined): string => {
    assert.ok(a, 'lab created without IPv6');
    return a;
  };
  const { service: s, node: n } = lab;
  return [
    { what: 'NodePort v4', address: n.eth0v4, port: s.nodePort },
    { what: 'NodePort v6', address: v6(n.eth0v6), port: s.nodePort },
    { what: 'external IP v4', address: s.externalIP, port: s.port },
    { what: 'external IP v6', address: v6(s.externalIPv6), port: s.port },
    { what: 'LB IP v4', address: s.loadBalancerIP, port: s.port },
    { what: 'LB IP v6', address: v6(s.loadBalancerIPv6), port: s.port },
  ];
}

/** Connects from `from` to every target at once; returns "what: ok|reason" per target. */
export async function probe(lab: Lab, from: LabHost, targets: Target[], timeoutMs = DROP_MS): Promise<Record<string, ConnectOutcome>> {
  const outcomes = await Promise.all(targets.map((t) => lab.connect(from, t.address, t.port, { timeoutMs })));
  return Object.fromEntries(targets.map((t, i) => [t.what, outcomes[i]]));
}

/** Asserts that every target answered (through to the pod) or that every one was dropped. */
export function assertAll(outcomes: Record<string, ConnectOutcome>, expected: 'reached' | 'dropped', who: string): void {
  for (const [what, r] of Object.entries(outcomes)) {
    if (expected === 'reached') {
      assert.ok(r.ok, `${who} → ${what} should be reached: ${r.detail}`);
      assert.equal(r.hello?.server, 'pod', `${who} → ${what} answered by ${r.hello?.server}`);
    } else {
      assert.equal(r.ok, false, `${who} → ${what} should be dropped: ${r.detail}`);
      assert.equal(r.reason, 'timeout', `${who} → ${what} should be a silent drop: ${r.detail}`);
    }
  }
}

/** Polls `check` until it returns true or timeoutMs passes; resolves with the result. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// Runs in a lab client: connects, prints every line the server sends, and sends every stdin line.
const HOLD_SCRIPT = `
const net = require('node:net');
const rl = require('node:readline');
const [address, port] = process.argv.slice(1);
const s = net.connect({ host: address, port: Number(port) });
s.on('error', (e) => { process.stdout.write(JSON.stringify({ error: e.code || e.message }) + '\\n'); process.exit(1); });
rl.createInterface({ input: s }).on('line', (l) => process.stdout.write(l + '\\n'));
rl.createInterface({ input: process.stdin }).on('line', (l) => s.write(l + '\\n')).on('close', () => s.end());
s.on('close', () => process.exit(0));
`;

/** A TCP connection kept open from a lab client to a lab server, which echoes each line sent. */
export class HeldConnection {
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;

  private constructor(private readonly child: ChildProcess) {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      this.waiter?.();
    });
  }

  static async open(lab: Lab, from: LabHost, address: string, port: number): Promise<HeldConnection> {
    const child = lab.spawn(from, [process.execPath, '-e', HOLD_SCRIPT, address, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const held = new HeldConnection(child);
    const hello = await held.nextLine(3000);
    assert.ok(hello?.startsWith('{"server"'), `held connection to ${address}:${port} got no hello: ${hello}`);
    return held;
  }

  /** Sends a line and resolves with the next line that comes back, or undefined after timeoutMs. */
  async echo(line: string, timeoutMs: number): Promise<string | undefined> {
    this.child.stdin!.write(line + '\n');
    return this.nextLine(timeoutMs);
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill('SIGKILL');
  }

  private nextLine(timeoutMs: number): Promise<string | undefined> {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(this.lines.shift());
      };
    });
  }
}
