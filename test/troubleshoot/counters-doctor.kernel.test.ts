// counters after real packets, mapped to policy and rule names; doctor's view of the prerouting
// hook with kube-proxy's chains and a Calico chain at our priority; monitor lines naming who
// changed our table.
import assert from 'node:assert/strict';
import { AgentStatus } from '../../src/api/service';
import { compile } from '../../src/compiler';
import { GenerationEvent, NftClient, NftMonitor, Transaction } from '../../src/kernel';
import { readCounters } from '../../src/troubleshoot/counters';
import { doctor, formatDoctor } from '../../src/troubleshoot/doctor';
import { generationChange, streamTableChanges } from '../../src/troubleshoot/monitor';
import { ChangeEvent } from '../../src/api/service';
import { loadViaNetlink } from '../compiler/load';
import { gnp, hep } from '../compiler/fixtures';
import { flushRuleset, nft, nftLoad } from '../support/kernel';
import { Wire, buildFrame } from './wire';

const KUBE_PROXY = `table ip kube-proxy {
  chain filter-prerouting-pre-dnat { type filter hook prerouting priority -110; policy accept; }
  chain nat-prerouting { type nat hook prerouting priority -100; policy accept; }
}`;
const CALICO = 'table ip calico { chain mangle-PREROUTING { type filter hook prerouting priority -150; policy accept; }; }';

describe('counters, doctor and monitor @kernel', function () {
  this.timeout(60_000);
  const wire = new Wire();
  let client: NftClient;

  before(() => {
    flushRuleset();
    wire.open();
    client = NftClient.open();
  });
  after(() => {
    client?.close();
    wire.close();
    flushRuleset();
  });

  async function loadPolicy(priority = -150): Promise<void> {
    await loadViaNetlink(compile([
      hep('lab', { interfaceName: wire.rx }, { host: 'lab' }),
      gnp('allow-web', { order: 1 }, [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }]),
      gnp('deny-all', { order: 2 }, [{ action: 'Deny' }]),
    ], 'node1', { priority }));
  }

  it('counters: packets and bytes per policy rule after real packets', async () => {
    flushRuleset();
    await loadPolicy();
    const tcp = (sport: number, dport: number): Buffer => buildFrame(wire, { src: '10.0.0.5', dst: '10.9.0.1', proto: 'tcp', sport, dport });
    for (let i = 0; i < 3; i++) await wire.send(tcp(43000 + i, 80));
    for (let i = 0; i < 2; i++) await wire.send(tcp(44000 + i, 81));
    await new Promise((r) => setTimeout(r, 100));
    const { counters } = await readCounters(client);
    const row = (policy: string): [number, number, string | undefined] | undefined => {
      const c = counters.find((r) => r.policy === policy && r.ruleIndex === 0);
      return c && [c.packets, c.bytes, c.action];
    };
    // A TCP SYN without options is a 40-byte IPv4 packet: what the counter sees at prerouting.
    assert.deepEqual(row('allow-web'), [3, 120, 'Allow']);
    assert.deepEqual(row('deny-all'), [2, 80, 'Deny']);
    const dispatch = counters.find((c) => c.comment.startsWith('dispatch hep=lab'));
    assert.equal(dispatch?.packets, 5);
    const only = await readCounters(client, 'flockguard', { policy: 'deny-all' });
    assert.deepEqual(only.counters.map((c) => c.policy), ['deny-all']);
    assert.deepEqual((await readCounters(client, 'absent')).counters, []);
  });

  it('doctor: orders every prerouting chain, places us before kube-proxy, and passes', async () => {
    flushRuleset();
    await loadPolicy();
    nftLoad(KUBE_PROXY);
    const report = await doctor(client);
    assert.deepEqual(report.chains.map((c) => `${c.priority} ${c.family} ${c.table} ${c.chain}`), [
      '-150 inet flockguard prerouting',
      '-110 ip kube-proxy filter-prerouting-pre-dnat',
      '-100 ip kube-proxy nat-prerouting',
    ]);
    assert.deepEqual(report.warnings, []);
    assert.ok(report.ok, formatDoctor(report).join('\n'));
    const order = report.checks.find((c) => c.name === 'hook-order');
    assert.match(order?.detail ?? '', /before kube-proxy's DNAT \(-100\)/);
    assert.ok(report.checks.some((c) => c.name === 'kernel-features' && c.ok));
    assert.ok(!nft(['list', 'tables']).includes('flockguard-doctor-'), 'the probe table is gone');
  });

  it('doctor: warns and fails on a Calico chain at our priority, a stale trace rule, and a bad status', async () => {
    flushRuleset();
    await loadPolicy();
    nftLoad(KUBE_PROXY);
    nftLoad(CALICO);
    nft(['insert', 'rule', 'inet', 'flockguard', 'prerouting', 'meta', 'nftrace', 'set', '1', 'comment', '"flockguard-trace dead0001"']);
    const status = {
      inSync: false, revision: 7, generation: 3, warnings: ['monitor lost events'], driftRepairs: 1,
      lastRepairs: [{ time: '2026-01-01T00:00:00.000Z', description: 'delete rule by pid 42 (nft)' }],
    } as unknown as AgentStatus;
    const report = await doctor(client, { status, socketPath: '/nonexistent/flockguard.sock', probe: false });
    const lines = formatDoctor(report).join('\n');
    assert.equal(report.ok, false);
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name).sort();
    assert.deepEqual(failed, ['hook-order', 'socket', 'sync', 'trace-rules'], lines);
    assert.ok(report.warnings.some((w) => w.includes('ip calico mangle-PREROUTING') && w.includes('undefined')), lines);
    assert.ok(report.warnings.includes('monitor lost events'));
    assert.ok(report.warnings.some((w) => w.includes('pid 42 (nft)')));
    assert.match(lines, /-150 {2}ip calico mangle-PREROUTING .*Calico pre-DNAT \(mangle\).*same priority/);
  });

  it('doctor: a chain at or after kube-proxy DNAT fails the order check', async () => {
    flushRuleset();
    await loadPolicy(-90);
    nftLoad(KUBE_PROXY);
    const report = await doctor(client, { probe: false });
    assert.equal(report.checks.find((c) => c.name === 'hook-order')?.ok, false);
    assert.ok(report.warnings.some((w) => w.includes('translated destinations')));
  });

  it('monitor: a change to our table names who made it; other tables are not ours', async () => {
    flushRuleset();
    await loadPolicy();
    const monitor = NftMonitor.open();
    const gens: GenerationEvent[] = [];
    monitor.on('generation', (g) => gens.push(g));
    try {
      await client.commit(new Transaction().addRule({ family: 'inet', table: 'flockguard', chain: 'prerouting', exprs: [], comment: 'policy=late rule=3 action=Deny' }));
      nft(['add', 'rule', 'inet', 'flockguard', 'prerouting', 'counter']);
      nftLoad('table ip other { chain c { }; }');
      for (let i = 0; i < 100 && gens.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      monitor.close();
    }
    const changes = gens.map((g) => generationChange(g));
    assert.match(changes[0]?.message ?? '', new RegExp(`by flockguard \\(pid ${process.pid}\\): add rule prerouting handle \\d+ \\[policy late rule 3 \\(Deny\\)\\]`));
    assert.match(changes[1]?.message ?? '', /by pid \d+ \(nft\): add rule prerouting handle \d+ \[unnamed rule\]/);
    assert.equal(changes[2], undefined);
  });

  it('monitor stream: writes the changes to our table until aborted, then stops', async () => {
    flushRuleset();
    await loadPolicy();
    const events: ChangeEvent[] = [];
    const ac = new AbortController();
    const done = streamTableChanges({ write: (e) => events.push(e) }, ac.signal);
    nft(['add', 'rule', 'inet', 'flockguard', 'prerouting', 'counter', 'comment', '"policy=x rule=0 action=Allow"']);
    nftLoad('table ip unrelated { chain c { }; }');
    for (let i = 0; i < 100 && events.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await done;
    nft(['add', 'rule', 'inet', 'flockguard', 'prerouting', 'counter']);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.equal(events[0].type, 'ruleset');
    assert.match(events[0].message, /\(nft\): add rule prerouting handle \d+ \[policy x rule 0 \(Allow\)\]$/);
  });
});
