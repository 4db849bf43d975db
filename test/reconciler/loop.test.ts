// The reconcile loop against the real kernel: idempotence, no read-back for small changes, drift
// repair (table deleted, chain flushed), foreign tables left alone, restart without a gap, removal.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/agent/logger';
import { NftClient } from '../../src/kernel';
import { Ruleset } from '../../src/nftables/model';
import { diff } from '../../src/reconciler/diff';
import { DriftRepair, KernelClient, Reconciler } from '../../src/reconciler/reconciler';
import { freshNetns, kernelGeneration, kernelTable, nft } from '../support/kernel';
import { baseChain, intervalElements, ipv4Set, lookupRule, portRule, regularChain, ruleset } from './fixtures';

const quiet = (): ReturnType<typeof createLogger> => createLogger({ level: 'debug', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

function desired(nets: Array<[string, string]> = [['10.0.0.0', '10.255.255.255']]): Ruleset {
  return ruleset([baseChain(), regularChain('hep-lo')],
    [{ family: 'inet', table: 'flockguard', chain: 'prerouting', exprs: [{ type: 'immediate', dreg: 0, verdict: { kind: 'jump', chain: 'hep-lo' } }] },
      portRule('hep-lo', 22), lookupRule('hep-lo', 'blocked'), portRule('hep-lo', 80)],
    [ipv4Set('blocked', intervalElements(nets), true)]);
}

/** A real client that counts read-backs, and the read-backs that dumped set elements. */
function countingClient(): { client: KernelClient; dumps: () => number; elementDumps: () => number } {
  const real = NftClient.open();
  let dumps = 0;
  let elementDumps = 0;
  const client: KernelClient = {
    getGeneration: () => real.getGeneration(),
    dumpTable: async (f, n, o) => {
      dumps++;
      const read = await real.dumpTable(f, n, o);
      if (read.ruleset?.sets.some((s) => s.elements !== undefined)) elementDumps++;
      return read;
    },
    commit: (tx, o) => real.commit(tx, o),
    close: () => real.close(),
  };
  return { client, dumps: () => dumps, elementDumps: () => elementDumps };
}

function nextRepair(r: Reconciler, timeoutMs = 5000): Promise<DriftRepair> {
  return Promise.race([
    once(r, 'drift').then(([d]) => d as DriftRepair),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no drift repair within ${timeoutMs} ms`)), timeoutMs).unref()),
  ]);
}

describe('reconcile loop @kernel', () => {
  let rec: Reconciler | undefined;
  let counter: ReturnType<typeof countingClient>;
  const startReconciler = (): Reconciler => {
    counter = countingClient();
    rec = new Reconciler({ family: 'inet', table: 'flockguard', logger: quiet(), resyncIntervalMs: 0, openClient: () => counter.client });
    rec.start();
    return rec;
  };
  beforeEach(() => freshNetns());
  afterEach(async () => {
    await rec?.stop();
    rec = undefined;
  });

  it('installs the table, and a second identical apply commits nothing', async () => {
    const r = startReconciler();
    const first = await r.apply(desired(), 1);
    assert.equal(first.changed, true);
    assert.deepEqual(diff(desired(), (await kernelTable()).ruleset).ops, []);
    const g = await kernelGeneration();
    const second = await r.apply(desired(), 1);
    assert.equal(second.changed, false);
    assert.equal(await kernelGeneration(), g, 'the generation did not move');
    assert.equal(r.status().inSync, true);
  });

  it('pushes a one-prefix change as element deltas without reading the table back', async () => {
    const r = startReconciler();
    await r.apply(desired(), 1);
    const dumpsBefore = counter.dumps();
    assert.equal(dumpsBefore, 1, 'one read-back, at start');
    const res = await r.apply(desired([['10.0.0.0', '10.255.255.255'], ['192.168.7.0', '192.168.7.255']]), 2);
    assert.equal(counter.dumps(), dumpsBefore, 'no read-back');
    assert.deepEqual(res.summary && [res.summary.elementsAdded, res.summary.rulesAdded, res.summary.rulesReplaced], [2, 0, 0]);
    assert.deepEqual(diff(desired([['10.0.0.0', '10.255.255.255'], ['192.168.7.0', '192.168.7.255']]), (await kernelTable()).ruleset).ops, []);
  });

  it('keeps using its in-memory view after another process changes another table', async () => {
    const r = startReconciler();
    await r.apply(desired(), 1);
    const dumps = counter.dumps();
    nft(['add', 'table', 'ip', 'other']);
    nft(['add', 'chain', 'ip', 'other', 'c']);
    const res = await r.apply(desired([['10.0.0.0', '10.255.255.255'], ['172.16.0.0', '172.31.255.255']]), 2);
    assert.equal(res.changed, true);
    assert.equal(counter.dumps(), dumps, 'our table was not read back');
    assert.deepEqual(diff(desired([['10.0.0.0', '10.255.255.255'], ['172.16.0.0', '172.31.255.255']]), (await kernelTable()).ruleset).ops, []);
    assert.equal(r.status().driftRepairs, 0);
    assert.ok(nft(['list', 'tables']).includes('table ip other'), 'the other table is left alone');
  });

  it('repairs a deleted table and records who did it', async () => {
    const r = startReconciler();
    await r.apply(desired(), 1);
    const repaired = nextRepair(r);
    const t0 = performance.now();
    nft(['delete', 'table', 'inet', 'flockguard']);
    const rep = await repaired;
    const latency = performance.now() - t0;
    assert.deepEqual(diff(desired(), (await kernelTable()).ruleset).ops, []);
    assert.equal(rep.procName, 'nft');
    assert.match(rep.what, /delete table/);
    assert.equal(r.status().driftRepairs, 1);
    console.log(`      drift repair after 'nft delete table': ${latency.toFixed(1)} ms (agent-measured ${rep.latencyMs.toFixed(1)} ms)`);
  });

  it('repairs a flushed chain', async () => {
    const r = startReconciler();
    await r.apply(desired(), 1);
    const repaired = nextRepair(r);
    nft(['flush', 'chain', 'inet', 'flockguard', 'hep-lo']);
    const rep = await repaired;
    assert.match(rep.repaired, /rules \+3/);
    assert.deepEqual(diff(desired(), (await kernelTable()).ruleset).ops, []);
  });

  it('a restart adopts the table without deleting it: no commit when nothing changed', async () => {
    const r1 = startReconciler();
    await r1.apply(desired(), 1);
    await r1.stop();
    rec = undefined;
    assert.deepEqual(diff(desired(), (await kernelTable()).ruleset).ops, [], 'the rules stayed after stop');
    const g = await kernelGeneration();
    const r2 = startReconciler();
    const res = await r2.apply(desired(), 1);
    assert.equal(res.changed, false);
    assert.equal(await kernelGeneration(), g, 'nothing was deleted or re-added');
  });

  it('removeTable deletes the table on purpose and does not repair it', async () => {
    const r = startReconciler();
    await r.apply(desired(), 1);
    assert.equal(await r.removeTable(), true);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal((await kernelTable()).ruleset, undefined);
    assert.equal(r.status().driftRepairs, 0);
  });

  it('survives a commit of more events than the monitor can hold, and still sees drift after it', async () => {
    const many: Array<[string, string]> = [];
    for (let i = 0; i < 20_000; i++) many.push([`10.${i >> 8}.${i & 255}.0`, `10.${i >> 8}.${i & 255}.127`]);
    const r = startReconciler();
    const res = await r.apply(desired(many), 1);
    assert.equal(res.summary?.elementsAdded, 40_001);
    await r.idle();
    assert.equal(counter.elementDumps(), 0, 'the rule handles of the quiet commit were read without its 40,001 elements');
    assert.deepEqual(diff(desired(many), (await kernelTable()).ruleset).ops, []);
    const dumps = counter.dumps();
    const changed = await r.apply(desired([...many, ['192.168.7.0', '192.168.7.255']]), 2);
    assert.equal(changed.summary?.elementsAdded, 2);
    assert.equal(counter.dumps(), dumps, 'the next change was diffed against the view in memory');
    const repaired = nextRepair(r);
    nft(['flush', 'chain', 'inet', 'flockguard', 'hep-lo']);
    await repaired;
    assert.deepEqual(diff(desired([...many, ['192.168.7.0', '192.168.7.255']]), (await kernelTable()).ruleset).ops, []);
  });

  it('retries a repair that failed until the table is back', async () => {
    const real = NftClient.open();
    let failures = 1;
    rec = new Reconciler({
      family: 'inet', table: 'flockguard', logger: quiet(), resyncIntervalMs: 0,
      openClient: () => ({
        getGeneration: () => real.getGeneration(),
        dumpTable: (f, n) => real.dumpTable(f, n),
        commit: (tx, o) => (failures-- > 0 && o?.genId !== undefined && tx.size > 1
          ? Promise.reject(Object.assign(new Error('injected failure'), { code: 'NFT_KERNEL_ERROR' }))
          : real.commit(tx, o)),
        close: () => real.close(),
      }),
    });
    rec.start();
    failures = 0;
    await rec.apply(desired(), 1);
    failures = 1;
    nft(['delete', 'table', 'inet', 'flockguard']);
    const t0 = Date.now();
    while (!((await kernelTable()).ruleset)) {
      assert.ok(Date.now() - t0 < 10_000, 'the table came back');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(failures, -1, 'the first repair failed, the retry succeeded');
    assert.deepEqual(diff(desired(), (await kernelTable()).ruleset).ops, []);
  });

  it('undoes what another process added to our table: a rule and a set element', async () => {
    const r = startReconciler();
    await r.apply(desired(), 1);
    let repaired = nextRepair(r);
    nft(['insert', 'rule', 'inet', 'flockguard', 'hep-lo', 'tcp', 'dport', '6666', 'accept']);
    let rep = await repaired;
    assert.match(rep.repaired, /rules \+0 ~0 -1/);
    repaired = nextRepair(r);
    nft(['add', 'element', 'inet', 'flockguard', 'blocked', '{ 192.0.2.0/24 }']);
    rep = await repaired;
    assert.match(rep.what, /new element/);
    assert.match(rep.repaired, /elements \+0 -2/);
    assert.deepEqual(diff(desired(), (await kernelTable()).ruleset).ops, []);
  });

  it('leaves the live rules keepLiveRule claims (a running trace), and repairs them once it lets go', async () => {
    let keeping = true;
    counter = countingClient();
    rec = new Reconciler({
      family: 'inet', table: 'flockguard', logger: quiet(), resyncIntervalMs: 0, openClient: () => counter.client,
      keepLiveRule: (rule) => keeping && rule.comment === 'kept by a trace',
    });
    rec.start();
    await rec.apply(desired(), 1);
    nft(['insert', 'rule', 'inet', 'flockguard', 'hep-lo', 'meta', 'nftrace', 'set', '1', 'comment', '"kept by a trace"']);
    await rec.resync('test');
    assert.match(nft(['list', 'chain', 'inet', 'flockguard', 'hep-lo']), /kept by a trace/);
    keeping = false;
    await rec.resync('test');
    assert.doesNotMatch(nft(['list', 'chain', 'inet', 'flockguard', 'hep-lo']), /kept by a trace/);
    assert.deepEqual(diff(desired(), (await kernelTable()).ruleset).ops, []);
  });
});
