// The agent in-process (runAgent), driven through its API socket, against the real kernel of this
// test run's private namespace.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningAgent, runAgent } from '../../src/agent/main';
import { AgentOptions } from '../../src/agent/options';
import { ApiClient } from '../../src/api/client';
import { TraceLine } from '../../src/api/service';
import { compile } from '../../src/compiler';
import { diff } from '../../src/reconciler/diff';
import { Store } from '../../src/store';
import { freshNetns, kernelGeneration, kernelTable, nft } from '../support/kernel';
import { POLICY } from './fixtures';

/** The kernel holds exactly what the store's current revision compiles to. */
async function assertKernelMatchesStore(db: string): Promise<void> {
  const store = Store.open(db);
  try {
    const desired = compile(store.current()?.resources ?? [], 'node1');
    assert.deepEqual(diff(desired, (await kernelTable()).ruleset).ops, []);
  } finally {
    store.close();
  }
}

/** One TCP SYN to 127.0.0.1:port (refused, but it crosses prerouting on lo). */
function knock(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => resolve());
    s.on('connect', () => {
      s.destroy();
      resolve();
    });
  });
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('flockguard agent @kernel', () => {
  let dir: string;
  let options: AgentOptions;
  let agent: RunningAgent | undefined;
  let api: ApiClient | undefined;
  const doc = (text = POLICY) => ({ documents: [{ fileName: 'policy.yaml', text }], dryRun: false, skipUnsupported: false });
  const start = async (): Promise<ApiClient> => {
    agent = await runAgent(options, { handleSignals: false });
    api = await ApiClient.connect(options.socket);
    return api;
  };
  const stop = async (): Promise<void> => {
    api?.close();
    api = undefined;
    await agent?.stop();
    agent = undefined;
  };

  beforeEach(() => {
    freshNetns();
    dir = mkdtempSync(join(tmpdir(), 'flockguard-agent-'));
    options = { socket: join(dir, 'api.sock'), db: join(dir, 'state.db'), nodeName: 'node1', priority: -150, resyncInterval: 0, logLevel: 'error' };
  });
  afterEach(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a policy into the kernel; the same apply again changes nothing and commits nothing', async () => {
    const c = await start();
    const first = await c.apply(doc());
    assert.equal(first.changed, true);
    assert.equal(first.kernelApplied, true);
    assert.deepEqual(first.objects.map((o) => `${o.kind}/${o.name} ${o.action}`).sort(),
      ['GlobalNetworkPolicy/deny-blocked created', 'GlobalNetworkSet/blocked created', 'HostEndpoint/node1-lo created']);
    await assertKernelMatchesStore(options.db);
    const g = await kernelGeneration();
    const again = await c.apply(doc());
    assert.equal(again.changed, false);
    assert.equal(again.revision, first.revision);
    assert.equal(await kernelGeneration(), g, 'the generation did not move');
    assert.equal((await c.history()).length, 1);
  });

  it('refuses an invalid document whole: nothing stored, the kernel untouched', async () => {
    const c = await start();
    await c.apply(doc());
    const g = await kernelGeneration();
    const bad = POLICY.replace('nets: [10.0.0.0/8]', 'nets: [10.0.0.0/8, 300.1.1.1/32]');
    await assert.rejects(c.apply(doc(bad)), (err: { code?: string; message: string }) => err.code === 'POLICY_INVALID' && /300\.1\.1\.1/.test(err.message));
    assert.equal(await kernelGeneration(), g);
    assert.equal((await c.history()).length, 1);
  });

  it('serialises concurrent mutations: every one becomes its own revision and the kernel ends at the last', async () => {
    const c = await start();
    await c.apply(doc());
    const prefixes = ['192.168.1.0/24', '192.168.2.0/24', '192.168.3.0/24', '192.168.4.0/24', '192.168.5.0/24', '192.168.6.0/24'];
    const results = await Promise.all(prefixes.map((p) => c.netsetAdd({ name: 'blocked', cidrs: [p], dryRun: false })));
    assert.deepEqual(results.map((r) => r.revision).sort((a, b) => a - b), [2, 3, 4, 5, 6, 7]);
    const got = await c.get({ kind: 'GlobalNetworkSet', name: 'blocked' });
    assert.deepEqual(((got.resources[0] as { spec: { nets: string[] } }).spec.nets).slice().sort(), ['10.0.0.0/8', ...prefixes].sort());
    await assertKernelMatchesStore(options.db);
  });

  it('changes one network set prefix by element deltas only', async () => {
    const c = await start();
    await c.apply(doc());
    await c.netsetAdd({ name: 'blocked', cidrs: ['172.16.0.0/12'], dryRun: false });
    const st = agent!.reconciler.status();
    assert.match(st.lastCommit!.summary, /rules \+0 ~0 -0/);
    assert.match(st.lastCommit!.summary, /elements \+2 -0/);
    const removed = await c.netsetRemove({ name: 'blocked', cidrs: ['172.16.0.0/12'], dryRun: false });
    assert.equal(removed.changed, true);
    assert.match(agent!.reconciler.status().lastCommit!.summary, /elements \+0 -2/);
    await assertKernelMatchesStore(options.db);
  });

  it('repairs drift: a deleted table comes back, and status says who did it', async () => {
    const c = await start();
    await c.apply(doc());
    const t0 = performance.now();
    nft(['delete', 'table', 'inet', 'flockguard']);
    await until('the repair', async () => (await c.status()).driftRepairs === 1);
    const ms = performance.now() - t0;
    await assertKernelMatchesStore(options.db);
    const st = await c.status();
    assert.equal(st.inSync, true);
    assert.match(st.lastRepairs[0]!.description, /delete table.*\(nft\)/);
    console.log(`      agent drift repair (delete table -> repaired, seen through the API): ${ms.toFixed(1)} ms`);
  });

  it('restarts without a gap: the rules stay while it is down and are adopted, not re-added', async () => {
    await start();
    await api!.apply(doc());
    await stop();
    const down = await kernelTable();
    assert.ok(down.ruleset, 'the table stays while the agent is down');
    await start();
    assert.equal(await kernelGeneration(), down.generation, 'start committed nothing: no delete, no re-add');
    assert.equal((await api!.status()).inSync, true);
  });

  it('rolls back to the previous revision', async () => {
    const c = await start();
    await c.apply(doc());
    await c.netsetAdd({ name: 'blocked', cidrs: ['172.16.0.0/12'], dryRun: false });
    const back = await c.rollback({ dryRun: false });
    assert.equal(back.revision, 3);
    const got = await c.get({ kind: 'GlobalNetworkSet', name: 'blocked' });
    assert.deepEqual((got.resources[0] as { spec: { nets: string[] } }).spec.nets, ['10.0.0.0/8']);
    await assertKernelMatchesStore(options.db);
  });

  it('traces a packet through the policy, then takes its marking rules away', async () => {
    const c = await start();
    await c.apply(doc());
    const lines: TraceLine[] = [];
    const abort = new AbortController();
    const tracing = agent!.service.trace({ dst: '127.0.0.1', dport: 80, timeoutMs: 10_000 }, { write: (l) => lines.push(l) }, { peer: { claimed: true }, signal: abort.signal });
    await until('the trace rules', async () => nft(['list', 'chain', 'inet', 'flockguard', 'prerouting']).includes('flockguard-trace '));
    await until('a trace of the allowed SYN', async () => {
      await knock(80);
      return lines.some((l) => l.policy === 'deny-blocked' && l.ruleIndex === 1);
    });
    abort.abort();
    await tracing;
    assert.ok(lines.every((l) => l.chain === '' || l.chain.startsWith('inet flockguard ')), 'only our table saw the packet');
    assert.doesNotMatch(nft(['list', 'chain', 'inet', 'flockguard', 'prerouting']), /flockguard-trace/);
    await assertKernelMatchesStore(options.db);
  });

  it('explains a packet with the policy rule that decides it, and counts real packets per rule', async () => {
    const c = await start();
    await c.apply(doc());
    const allowed = await c.explain({ iif: 'lo', src: '127.0.0.1', dst: '127.0.0.1', protocol: 'tcp', dport: 80 });
    assert.equal(allowed.verdict, 'accept');
    assert.ok(allowed.path.some((p) => p.policy === 'deny-blocked' && p.ruleIndex === 1));
    const denied = await c.explain({ iif: 'lo', src: '10.1.2.3', dst: '127.0.0.1', protocol: 'tcp', dport: 80 });
    assert.equal(denied.verdict, 'drop');
    assert.match(denied.summary, /deny-blocked rule 0/);
    await knock(80);
    await knock(80);
    const { counters } = await c.counters('deny-blocked');
    assert.ok(counters.length > 0 && counters.every((k) => k.policy === 'deny-blocked'));
    assert.ok(counters.find((k) => k.ruleIndex === 1)!.packets >= 2);
  });
});
