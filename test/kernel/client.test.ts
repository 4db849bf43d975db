// The kernel client against real nf_tables, with nft as the oracle both ways: what nft loads, our
// dump decodes into the model; what we commit from the model, nft prints as it prints its own load.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NftClient, NftError, Transaction } from '../../src/kernel';
import { AttributeWriter, NLMSG_ERROR, NetlinkSocket, parseErrorBody } from '../../src/netlink';
import { NftMsg, decodeSetElements, encodeSetElements, parseNftMessage } from '../../src/nftables';
import { NftSet, Ruleset } from '../../src/nftables/model';
import { flushRuleset, nft, nftLoad } from '../support/kernel';
import { FIXTURE_NFT, fixtureModel, view } from './fixture';

/** Adds a whole ruleset in dependency order: table, chains, sets with elements, rules. */
export function installTx(rs: Ruleset, tx = new Transaction()): Transaction {
  tx.addTable(rs.table);
  for (const c of rs.chains) tx.addChain(c);
  for (const s of rs.sets) tx.addSet(s);
  for (const c of rs.chains) for (const r of rs.rules.get(c.name) ?? []) tx.addRule(r);
  return tx;
}

/** nft -j output without what differs between two loads of the same text (handles, versions). */
function jsonView(text: string): unknown {
  const parsed = JSON.parse(text) as { nftables: Array<Record<string, unknown>> };
  return JSON.parse(
    JSON.stringify(parsed.nftables.filter((o) => !('metainfo' in o)), (k, v: unknown) => (k === 'handle' ? undefined : v)),
  );
}

describe('NftClient against the kernel @kernel', () => {
  let client: NftClient;
  beforeEach(() => {
    flushRuleset();
    client = NftClient.open();
  });
  afterEach(() => client?.close());

  it('decodes what nft -f installs into the expected model', async () => {
    nftLoad(FIXTURE_NFT);
    const { generation, ruleset } = await client.dumpTable('inet', 'fgtest');
    assert.ok(ruleset);
    assert.equal(generation, (await client.getGeneration()).id);
    assert.deepEqual(view(ruleset), view(fixtureModel()));
    // Handles and positions are the kernel's: rule 2 of pre follows rule 1.
    const pre = ruleset.rules.get('pre')!;
    assert.equal(pre[1].position, pre[0].handle);
  });

  it('commits the model so that nft list and nft -j list print what nft -f of the same text prints', async () => {
    nftLoad(FIXTURE_NFT);
    const expectedText = nft(['list', 'ruleset']);
    const expectedJson = jsonView(nft(['-j', 'list', 'ruleset']));
    flushRuleset();
    await client.commit(installTx(fixtureModel()));
    assert.equal(nft(['list', 'ruleset']), expectedText);
    assert.deepEqual(jsonView(nft(['-j', 'list', 'ruleset'])), expectedJson);
  });

  it('reads back exactly what it committed', async () => {
    const model = fixtureModel();
    await client.commit(installTx(model));
    const { ruleset } = await client.dumpTable('inet', 'fgtest');
    assert.ok(ruleset);
    assert.deepEqual(view(ruleset), view(model));
  });

  it('dumps the whole ruleset across tables and families, and reports an absent table', async () => {
    nftLoad(FIXTURE_NFT);
    nftLoad('table ip other { chain c { type filter hook input priority 0; policy drop; }; }');
    const { tables } = await client.dumpRuleset();
    assert.deepEqual(tables.map((t) => `${t.table.family} ${t.table.name}`).sort(), ['inet fgtest', 'ip other']);
    const other = tables.find((t) => t.table.name === 'other')!;
    assert.deepEqual(other.chains[0].base, { type: 'filter', hook: 'input', priority: 0, policy: 'drop' });
    assert.equal((await client.dumpTable('ip', 'absent')).ruleset, undefined);
  });

  it('replaces, inserts and deletes rules by handle', async () => {
    await client.commit(installTx(fixtureModel()));
    const pre = (await client.dumpTable('inet', 'fgtest')).ruleset!.rules.get('pre')!;
    const tx = new Transaction();
    tx.replaceRule({ ...pre[2], handle: pre[2].handle!, exprs: [{ type: 'immediate', dreg: 0, verdict: { kind: 'drop' } }], comment: 'replaced' });
    tx.addRule({ family: 'inet', table: 'fgtest', chain: 'pre', exprs: [{ type: 'counter', packets: 0n, bytes: 0n }], comment: 'first' }, { before: pre[0].handle });
    tx.addRule({ family: 'inet', table: 'fgtest', chain: 'pre', exprs: [{ type: 'counter', packets: 0n, bytes: 0n }], comment: 'second' }, { after: pre[0].handle });
    tx.deleteRule({ ...pre[1], handle: pre[1].handle! });
    await client.commit(tx);
    const after = (await client.dumpTable('inet', 'fgtest')).ruleset!.rules.get('pre')!;
    assert.deepEqual(after.map((r) => r.comment), ['first', 'block nets', 'second', 'replaced']);
    assert.equal(after[3].handle, pre[2].handle);
  });

  it('a batch that fails halfway leaves the kernel exactly as it was, and names the failed rule', async () => {
    nftLoad(FIXTURE_NFT);
    const before = nft(['list', 'ruleset']);
    const genBefore = (await client.getGeneration()).id;
    const tx = new Transaction();
    tx.addChain({ family: 'inet', table: 'fgtest', name: 'newchain' });
    tx.addElements(fixtureModel().sets[3], [{ key: Buffer.from([10, 9, 9, 9]) }]);
    tx.addRule({
      family: 'inet',
      table: 'fgtest',
      chain: 'newchain',
      comment: 'uses missing set',
      exprs: [
        { type: 'payload', base: 'network', offset: 12, len: 4, dreg: 1 },
        { type: 'lookup', set: 'missing', sreg: 1 },
      ],
    });
    tx.addChain({ family: 'inet', table: 'fgtest', name: 'another' });
    await assert.rejects(client.commit(tx), (err: NftError) => {
      assert.equal(err.code, 'NFT_KERNEL_ERROR');
      assert.equal(err.operation, 'NEWRULE');
      assert.equal(err.object, 'inet fgtest chain newchain rule "uses missing set"');
      assert.equal(err.errnoName, 'ENOENT');
      assert.match(err.message, /NEWRULE inet fgtest chain newchain rule "uses missing set": ENOENT/);
      return true;
    });
    assert.equal(nft(['list', 'ruleset']), before);
    assert.equal((await client.getGeneration()).id, genBefore);
  });

  it('names the set when deleting an element it does not hold, and lists every error of the batch', async () => {
    nftLoad(FIXTURE_NFT);
    const before = nft(['list', 'ruleset']);
    const hosts = fixtureModel().sets[3];
    const tx = new Transaction()
      .deleteElements(hosts, [{ key: Buffer.from([10, 7, 7, 7]) }])
      .deleteChain({ family: 'inet', table: 'fgtest', name: 'no-such-chain' });
    await assert.rejects(client.commit(tx), (err: NftError) => {
      assert.equal(err.operation, 'DELSETELEM');
      assert.equal(err.object, 'inet fgtest set hosts (1 elements)');
      assert.equal(err.errnoName, 'ENOENT');
      assert.deepEqual(err.errors?.map((e) => `${e.operation} ${e.object} ${e.errnoName}`), [
        'DELSETELEM inet fgtest set hosts (1 elements) ENOENT',
        'DELCHAIN inet fgtest chain no-such-chain ENOENT',
      ]);
      return true;
    });
    assert.equal(nft(['list', 'ruleset']), before);
  });

  it('refuses a batch when another writer committed after our dump (NFT_GENERATION_CHANGED), and applies it after a re-dump', async () => {
    nftLoad(FIXTURE_NFT);
    const { generation } = await client.dumpTable('inet', 'fgtest');
    nft(['add', 'table', 'ip', 'intruder']);
    const afterIntruder = nft(['list', 'ruleset']);
    const tx = () => new Transaction().addChain({ family: 'inet', table: 'fgtest', name: 'mine' });
    await assert.rejects(client.commit(tx(), { genId: generation }), (err: NftError) => {
      assert.equal(err.code, 'NFT_GENERATION_CHANGED');
      assert.equal(err.errnoName, 'ERESTART');
      return true;
    });
    assert.equal(nft(['list', 'ruleset']), afterIntruder);
    const again = await client.dumpTable('inet', 'fgtest');
    const result = await client.commit(tx(), { genId: again.generation });
    assert.equal(result.generation, again.generation + 1);
    assert.match(nft(['list', 'chain', 'inet', 'fgtest', 'mine']), /chain mine/);
  });

  it('returns only whole generations while another writer commits in a loop', async () => {
    nftLoad(FIXTURE_NFT);
    const hosts = fixtureModel().sets[3];
    const extra = { family: 'inet' as const, table: 'fgtest', name: 'extra' };
    const rule = { family: 'inet' as const, table: 'fgtest', chain: 'extra', exprs: [], comment: 'extra rule' };
    const element = [{ key: Buffer.from([10, 9, 9, 9]) }];
    // Each commit of the writer adds or removes a chain, its rule and a set element together: a torn
    // snapshot would show some of them and not the others.
    let stop = false;
    const writer = (async () => {
      const other = NftClient.open();
      for (let i = 0; !stop; i++) {
        const tx = new Transaction();
        if (i % 2 === 0) tx.addChain(extra).addRule(rule).addElements(hosts, element);
        else tx.flushChain(extra).deleteChain(extra).deleteElements(hosts, element);
        await other.commit(tx);
        // Irregular pauses, so that commits land at every point of a dump but let some dumps finish.
        await new Promise((r) => setTimeout(r, Math.random() * 6));
      }
      other.close();
    })();
    const seen = new Set<string>();
    try {
      for (let i = 0; i < 40; i++) {
        const { ruleset } = await client.dumpTable('inet', 'fgtest');
        const hasChain = ruleset!.chains.some((c) => c.name === 'extra');
        const hasRule = (ruleset!.rules.get('extra') ?? []).length === 1;
        const hasElement = ruleset!.sets.find((s) => s.name === 'hosts')!.elements!.some((e) => e.key.equals(element[0].key));
        assert.ok(hasChain === hasRule && hasRule === hasElement, `torn snapshot: chain ${hasChain}, rule ${hasRule}, element ${hasElement}`);
        seen.add(String(hasChain));
      }
    } finally {
      stop = true;
      await writer;
    }
    assert.equal(seen.size, 2, 'the dumps saw both states of the writer');
  });

  it('commits and reads back an interval set of 100,000 IPv4 prefixes in one batch', async function () {
    this.timeout(120_000);
    const { rangesToElements, elementsToRanges } = await import('../../src/nftables');
    const ranges: Array<[Buffer, Buffer]> = [];
    for (let i = 0; i < 100_000; i++) {
      // Disjoint /28s spread over 10.0.0.0/8 and beyond: i * 32 leaves a gap after each.
      const base = 0x0a000000 + i * 32;
      const lo = Buffer.alloc(4);
      lo.writeUInt32BE(base >>> 0);
      const hi = Buffer.alloc(4);
      hi.writeUInt32BE((base + 15) >>> 0);
      ranges.push([lo, hi]);
    }
    const set = { family: 'inet' as const, table: 'big', name: 'nets', flags: 0x4, keyType: 7, keyLen: 4, keyByteOrder: 'big' as const };
    const tx = new Transaction();
    tx.addTable({ family: 'inet', name: 'big' });
    tx.addSet({ ...set, elements: rangesToElements(ranges, { fresh: true }) });
    await client.commit(tx);
    const { ruleset } = await client.dumpTable('inet', 'big');
    const back = elementsToRanges(ruleset!.sets[0].elements!);
    assert.equal(back.length, ranges.length);
    assert.ok(back.every(([lo, hi], i) => lo.equals(ranges[i][0]) && hi.equals(ranges[i][1])));
    // nft agrees on the count and the edges.
    const listed = execFileSync('nft', ['list', 'set', 'inet', 'big', 'nets'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.match(listed, /10\.0\.0\.0\/28/);
    assert.equal((listed.match(/\/28/g) ?? []).length, 100_000);
  });

  it('commits an interval set of 1,000,000 IPv4 prefixes in one batch, beyond 2 x net.core.wmem_max', async function () {
    this.timeout(300_000);
    const { rangesToElements } = await import('../../src/nftables');
    const ranges = disjointPrefixes(1_000_000);
    const set = { family: 'inet' as const, table: 'big', name: 'nets', flags: 0x4, keyType: 7, keyLen: 4, keyByteOrder: 'big' as const };
    const tx = new Transaction();
    tx.addTable({ family: 'inet', name: 'big' });
    tx.addSet({ ...set, elements: rangesToElements(ranges, { fresh: true }) });
    const wmemLimit = 2 * Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
    assert.ok(tx.byteLength > wmemLimit, `the batch (${tx.byteLength} bytes) is larger than 2 x wmem_max (${wmemLimit})`);
    const before = (await client.getGeneration()).id;
    const result = await client.commit(tx);
    assert.equal(result.generation, before + 1);
    // Dumping a million intervals is quadratic in the kernel (minutes, and `nft get element` dumps the
    // whole set into its cache first): look single addresses up with GETSETELEM instead.
    const probes = [0, 1, 499_999, 765_432, 999_999];
    const offset = (b: Buffer, by: number) => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(b.readUInt32BE() + by);
      return out;
    };
    for (const i of probes) {
      const [lo, hi] = ranges[i];
      assert.deepEqual(await intervalStart(set, lo), lo, `prefix ${i}: ${ipText(lo)}/28`);
      assert.deepEqual(await intervalStart(set, hi), lo, `last address of prefix ${i}`);
      // The gaps on either side of each prefix are not in the set.
      assert.equal(await intervalStart(set, offset(hi, 1)), undefined, `gap after prefix ${i}`);
      if (i > 0) assert.equal(await intervalStart(set, offset(lo, -1)), undefined, `gap before prefix ${i}`);
    }
  });

  it('carries the kernel\'s extended-ACK message and names the attribute it points at', async () => {
    nftLoad('table inet fgtest { set hosts { type ipv4_addr; }; }');
    const before = nft(['list', 'ruleset']);
    // A chain name over NFT_NAME_MAXLEN fails nf_tables_chain_policy; the kernel says so in words.
    const longName = new Transaction().addChain({ family: 'inet', table: 'fgtest', name: 'x'.repeat(300) });
    await assert.rejects(client.commit(longName), (err: NftError) => {
      assert.equal(err.code, 'NFT_KERNEL_ERROR');
      assert.equal(err.operation, 'NEWCHAIN');
      assert.equal(err.errnoName, 'ERANGE');
      assert.match(err.kernelMessage ?? '', /policy/i);
      assert.equal(err.attribute, 'NFTA_CHAIN_NAME');
      assert.ok(err.message.includes(`${err.kernelMessage}, at NFTA_CHAIN_NAME`), err.message);
      return true;
    });
    // Where the kernel gives only an offset (NL_SET_BAD_ATTR), the attribute is still named: a
    // 3-byte key for a 4-byte set fails in nft_setelem_parse_key, on the second element.
    const hosts = { family: 'inet' as const, table: 'fgtest', name: 'hosts', flags: 0, keyType: 7, keyLen: 4 };
    const shortKey = new Transaction().addElements(hosts, [{ key: Buffer.from([10, 0, 0, 1]) }, { key: Buffer.from([10, 0, 2]) }]);
    await assert.rejects(client.commit(shortKey), (err: NftError) => {
      assert.equal(err.operation, 'NEWSETELEM');
      assert.equal(err.errnoName, 'EINVAL');
      assert.match(err.attribute ?? '', /element 2 in NFTA_SET_ELEM_LIST_ELEMENTS$/);
      return true;
    });
    assert.equal(nft(['list', 'ruleset']), before);
  });

  it('survives a failed batch whose error replies overflow its receive buffer, and says replies were lost', async () => {
    nftLoad(FIXTURE_NFT);
    const before = nft(['list', 'ruleset']);
    const small = NftClient.open({ recvBufferSize: 8 << 10 });
    try {
      const tx = new Transaction();
      for (let i = 0; i < 3000; i++) tx.deleteChain({ family: 'inet', table: 'nosuch', name: `c${i}` });
      await assert.rejects(small.commit(tx), (err: NftError) => {
        assert.equal(err.code, 'NFT_KERNEL_ERROR');
        assert.equal(err.errnoName, 'ENOENT');
        assert.ok((err.errors?.length ?? 0) < 3000, `${err.errors?.length} of 3000 errors arrived`);
        assert.match(err.message, /\d+ more replies were dropped/);
        return true;
      });
      assert.equal(nft(['list', 'ruleset']), before);
      // The socket still works.
      const result = await small.commit(new Transaction().addChain({ family: 'inet', table: 'fgtest', name: 'after' }));
      assert.equal(result.generation, (await small.getGeneration()).id);
    } finally {
      small.close();
    }
  });

  it('can be closed right after such a failed commit (npm netlink crashes when closed inside its receive callback)', () => {
    const kernel = path.resolve(__dirname, '../../src/kernel/index.js');
    const script = `
      const { NftClient, Transaction } = require(${JSON.stringify(kernel)});
      (async () => {
        const client = NftClient.open({ recvBufferSize: 8 << 10 });
        const tx = new Transaction();
        for (let i = 0; i < 3000; i++) tx.deleteChain({ family: 'inet', table: 'nosuch', name: 'c' + i });
        try {
          await client.commit(tx);
        } catch (err) {
          console.log(err.code);
        } finally {
          client.close();
        }
      })();`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.deepEqual([run.signal, run.status, run.stdout.trim()], [null, 0, 'NFT_KERNEL_ERROR'], run.stderr);
  });

  it('says which sysctl to raise when the send buffer cannot be forced and a batch exceeds 2 x net.core.wmem_max', function () {
    this.timeout(60_000);
    const before = nft(['list', 'ruleset']);
    // Without the native socket-option addon SO_SNDBUFFORCE is out of reach: a child process that
    // cannot load it commits a batch just above the plain option's limit.
    const kernel = path.resolve(__dirname, '../../src/kernel/index.js');
    const script = `
      const { NftClient, Transaction } = require(${JSON.stringify(kernel)});
      const limit = 2 * Number(require('node:fs').readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
      const set = { family: 'ip', table: 'huge', name: 's', flags: 0, keyType: 7, keyLen: 4 };
      const elements = [];
      for (let i = 0; i < Math.ceil((limit + (1 << 20)) / 150); i++) {
        elements.push({ key: Buffer.from([10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]), comment: 'x'.repeat(120) });
      }
      const tx = new Transaction().addTable({ family: 'ip', name: 'huge' }).addSet(set).addElements(set, elements);
      const client = NftClient.open();
      client.commit(tx).then(
        () => console.log(JSON.stringify({ committed: tx.byteLength })),
        (e) => console.log(JSON.stringify({ bytes: tx.byteLength, limit, code: e.code, message: e.message })),
      ).finally(() => client.close());`;
    const out = execFileSync(process.execPath, ['--no-warnings', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, FLOCKGUARD_NATIVE_ADDON: '/nonexistent/flockguard_sockopt.node' },
    });
    const r = JSON.parse(out) as { bytes: number; limit: number; code?: string; message?: string };
    assert.ok(r.bytes > r.limit, `the batch (${r.bytes} bytes) is larger than 2 x wmem_max (${r.limit})`);
    assert.equal(r.code, 'NFT_BATCH_TOO_LARGE');
    assert.match(r.message ?? '', /net\.core\.wmem_max/);
    assert.equal(nft(['list', 'ruleset']), before);
  });
});

/** `count` disjoint /28s from 10.0.0.0, one every 32 addresses. */
function disjointPrefixes(count: number): Array<[Buffer, Buffer]> {
  const out: Array<[Buffer, Buffer]> = [];
  for (let i = 0; i < count; i++) {
    const lo = Buffer.alloc(4);
    lo.writeUInt32BE((0x0a000000 + i * 32) >>> 0);
    const hi = Buffer.alloc(4);
    hi.writeUInt32BE((0x0a000000 + i * 32 + 15) >>> 0);
    out.push([lo, hi]);
  }
  return out;
}

/**
 * The start of the interval of an interval set that holds `addr` (what the kernel answers a
 * GETSETELEM without NLM_F_DUMP: the set backend's get, not a walk), or undefined if none does.
 */
async function intervalStart(set: NftSet, addr: Buffer): Promise<Buffer | undefined> {
  const socket = new NetlinkSocket(12);
  try {
    const w = new AttributeWriter(128);
    let seq = 0;
    encodeSetElements(w, set, [{ key: addr }], { msg: NftMsg.GETSETELEM, flags: 0 }, () => (seq = socket.nextSeq()));
    const reply = (await socket.exchange([w.toBuffer()], seq)).find((m) => m.seq === seq)!;
    if (reply.type === NLMSG_ERROR) {
      const { errno } = parseErrorBody(reply);
      if (errno === 2) return undefined;
      throw new Error(`GETSETELEM ${ipText(addr)}: errno ${errno}`);
    }
    return decodeSetElements(parseNftMessage(reply)!).elements[0]?.key;
  } finally {
    socket.close();
  }
}

function ipText(b: Buffer): string {
  return [...b].join('.');
}
