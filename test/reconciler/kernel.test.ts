// The differ against the real kernel: apply A, read it back, diff to B, commit, read back = B;
// unchanged rules keep counting; an empty plan commits nothing.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { NftClient } from '../../src/kernel';
import { Ruleset, SetFlags } from '../../src/nftables/model';
import { diff } from '../../src/reconciler/diff';
import { anonResolver, ruleKey } from '../../src/reconciler/rule-key';
import { planToTransaction } from '../../src/reconciler/transaction';
import { segmentsOf } from '../../src/reconciler/elements';
import { freshNetns, nft } from '../support/kernel';
import { baseChain, intervalElements, ip, ipv4Set, jumpRule, lookupRule, portRule, regularChain, ruleset } from './fixtures';

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

function keysByChain(rs: Ruleset): Record<string, string[]> {
  const res = anonResolver(rs.sets);
  return Object.fromEntries([...rs.rules].map(([c, rules]) => [c, rules.map((r) => ruleKey(r, res))]));
}

function rangesOf(rs: Ruleset, set: string): string[] {
  const s = rs.sets.find((x) => x.name === set)!;
  const g = segmentsOf(s.elements ?? []);
  return g.lo.map((lo, i) => `${lo}-${g.end[i] ?? 'max'}`);
}

const tableA = (): Ruleset => ruleset(
  [baseChain(), regularChain('hep-lo'), regularChain('stale')],
  [jumpRule('prerouting', 'hep-lo'), jumpRule('prerouting', 'stale'),
    portRule('hep-lo', 22), portRule('hep-lo', 5555), portRule('hep-lo', 80), lookupRule('hep-lo', 'nets'), portRule('stale', 1)],
  [ipv4Set('nets', intervalElements([['10.0.0.0', '10.0.0.255'], ['10.0.2.0', '10.0.2.255']]), true),
    ipv4Set('hosts', [{ key: ip('1.1.1.1') }, { key: ip('2.2.2.2') }], false)],
);

const tableB = (): Ruleset => ruleset(
  [baseChain(), regularChain('hep-lo')],
  [jumpRule('prerouting', 'hep-lo'),
    portRule('hep-lo', 21), portRule('hep-lo', 22), portRule('hep-lo', 5555), portRule('hep-lo', 8080), lookupRule('hep-lo', 'nets')],
  [ipv4Set('nets', intervalElements([['10.0.0.0', '10.0.1.255'], ['10.0.2.0', '10.0.2.255'], ['255.255.255.0', '255.255.255.255']]), true),
    ipv4Set('hosts', [{ key: ip('2.2.2.2') }, { key: ip('3.3.3.3') }], false)],
);

describe('reconciler diff against the kernel @kernel', () => {
  let client: NftClient;
  beforeEach(() => {
    freshNetns();
    client = NftClient.open();
  });
  afterEach(() => client.close());

  it('moves table A to table B in one batch; unchanged rules keep their handles and counters', async () => {
    await client.commit(planToTransaction(diff(tableA(), undefined)));
    await knock(5555);
    await knock(5555);
    const a = await client.dumpTable('inet', 'flockguard');
    assert.ok(a.ruleset);
    const counted = a.ruleset.rules.get('hep-lo')![1]!;
    const before = counted.exprs.find((e) => e.type === 'counter');
    assert.ok(before && before.type === 'counter' && before.packets >= 2n, 'the tcp/5555 rule counted the knocks');

    const plan = diff(tableB(), a.ruleset);
    assert.equal(plan.summary.tablesAdded, 0);
    const res = await client.commit(planToTransaction(plan), { genId: a.generation });
    assert.equal(res.generation, a.generation + 1, 'one commit');

    const b = await client.dumpTable('inet', 'flockguard');
    assert.deepEqual(keysByChain(b.ruleset!), keysByChain(tableB()));
    assert.deepEqual(b.ruleset!.chains.map((c) => c.name).sort(), ['hep-lo', 'prerouting']);
    assert.deepEqual(rangesOf(b.ruleset!, 'nets'), rangesOf(tableB(), 'nets'));
    assert.deepEqual(b.ruleset!.sets.find((s) => s.name === 'hosts')!.elements!.map((e) => e.key.toString('hex')).sort(), ['02020202', '03030303']);

    const kept = b.ruleset!.rules.get('hep-lo')!.find((r) => r.handle === counted.handle);
    assert.ok(kept, 'the unchanged tcp/5555 rule kept its handle');
    const after = kept.exprs.find((e) => e.type === 'counter');
    assert.ok(after && after.type === 'counter' && before.type === 'counter');
    assert.ok(after.packets >= before.packets, 'its counter was not reset');
    // And nft sees the same: the rule with dport 5555 still shows the knocks.
    const listing = nft(['list', 'chain', 'inet', 'flockguard', 'hep-lo']);
    const line = listing.split('\n').find((l) => l.includes('5555'));
    assert.match(line ?? '', new RegExp(`counter packets ${after.packets} `));
    assert.doesNotMatch(line ?? '', /counter packets 0 /);
  });

  it('an unchanged table gives an empty plan: nothing is sent and the generation stays', async () => {
    await client.commit(planToTransaction(diff(tableA(), undefined)));
    const a = await client.dumpTable('inet', 'flockguard');
    const plan = diff(tableA(), a.ruleset);
    assert.deepEqual(plan.ops, []);
    const g = await client.getGeneration();
    assert.equal(g.id, a.generation);
  });

  it('recreates a set whose definition changed, with the rules using it, in one batch', async () => {
    await client.commit(planToTransaction(diff(tableA(), undefined)));
    const a = await client.dumpTable('inet', 'flockguard');
    const desired = tableA();
    desired.sets[0] = ipv4Set('nets', [{ key: ip('10.9.9.9') }], false);
    await client.commit(planToTransaction(diff(desired, a.ruleset)), { genId: a.generation });
    const b = await client.dumpTable('inet', 'flockguard');
    assert.equal(b.ruleset!.sets.find((s) => s.name === 'nets')!.flags & 0x4, 0);
    assert.deepEqual(keysByChain(b.ruleset!), keysByChain(desired));
  });

  it('recreates a base chain whose priority changed and leaves the table alone', async () => {
    await client.commit(planToTransaction(diff(tableA(), undefined)));
    const a = await client.dumpTable('inet', 'flockguard');
    const desired = tableA();
    desired.chains[0] = baseChain('prerouting', -160);
    await client.commit(planToTransaction(diff(desired, a.ruleset)), { genId: a.generation });
    const b = await client.dumpTable('inet', 'flockguard');
    assert.equal(b.ruleset!.chains.find((c) => c.name === 'prerouting')!.base!.priority, -160);
    assert.equal(b.ruleset!.table.handle, a.ruleset!.table.handle, 'same table');
    assert.deepEqual(keysByChain(b.ruleset!), keysByChain(desired));
  });

  it('a stale commit is refused whole when someone else committed in between', async () => {
    await client.commit(planToTransaction(diff(tableA(), undefined)));
    const a = await client.dumpTable('inet', 'flockguard');
    nft(['add', 'table', 'ip', 'someone-else']);
    await assert.rejects(client.commit(planToTransaction(diff(tableB(), a.ruleset)), { genId: a.generation }), { code: 'NFT_GENERATION_CHANGED' });
    const still = await client.dumpTable('inet', 'flockguard');
    assert.deepEqual(keysByChain(still.ruleset!), keysByChain(tableA()));
  });

  it('removes a stale verdict map and the stale chain its elements jump to, in one batch', async () => {
    const vmap = {
      family: 'inet' as const, table: 'flockguard', name: 'dispatch', flags: SetFlags.map, keyType: 41, keyLen: 16,
      dataType: 0xffffff00, dataLen: 0, keyByteOrder: 'host' as const,
      elements: [{ key: Buffer.from('eth9'.padEnd(16, '\0')), verdict: { kind: 'jump' as const, chain: 'hep-eth9' } }],
    };
    const withMap = ruleset([baseChain(), regularChain('hep-eth9')],
      [{ family: 'inet', table: 'flockguard', chain: 'prerouting', exprs: [
        { type: 'meta', key: 'iifname', dreg: 1 }, { type: 'lookup', set: 'dispatch', sreg: 1, dreg: 0 }] }, portRule('hep-eth9', 22)],
      [vmap]);
    await client.commit(planToTransaction(diff(withMap, undefined)));
    const a = await client.dumpTable('inet', 'flockguard');
    assert.ok(a.ruleset!.sets.some((s) => s.name === 'dispatch'));
    const plain = ruleset([baseChain()], [portRule('prerouting', 80)]);
    await client.commit(planToTransaction(diff(plain, a.ruleset)), { genId: a.generation });
    const b = await client.dumpTable('inet', 'flockguard');
    assert.deepEqual(b.ruleset!.sets, []);
    assert.deepEqual(b.ruleset!.chains.map((c) => c.name), ['prerouting']);
    assert.deepEqual(keysByChain(b.ruleset!), keysByChain(plain));
  });
});
