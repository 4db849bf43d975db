// Packed prefix merging, the direct IPv4 element path and the fast IPv4 reader, checked against
// plain models: address-by-address membership, the kernel helper's rangesToElements, and parseCidr.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { exactPrefix, familyElements, familyRanges, intervalElements, PrefixBag } from '../../src/compiler/addresses';
import { packedV4 } from '../../src/compiler/fastv4';
import { parseCidr } from '../../src/policy/nets';

/** CIDRs inside 10.0.0.0/24 (prefix 24-32), so random lists overlap and touch often. */
const smallCidr = fc.tuple(fc.integer({ min: 24, max: 32 }), fc.integer({ min: 0, max: 255 })).map(([prefix, host]) => {
  const size = 2 ** (32 - prefix);
  return { start: 0x0a000000 + host - (host % size), prefix, size };
});

function member(list: Array<{ start: number; size: number }>, a: number): boolean {
  return list.some((c) => a >= c.start && a < c.start + c.size);
}

describe('compiler address lists', () => {
  it('merge gives sorted, disjoint, non-adjacent ranges covering exactly the union', () => {
    fc.assert(
      fc.property(fc.array(smallCidr, { maxLength: 12 }), (list) => {
        const bag = new PrefixBag();
        for (const c of list) bag.addV4(c.start, c.prefix);
        const { v4 } = bag.merge();
        for (let i = 2; i < v4.length; i += 2) assert.ok(v4[i] > v4[i - 1] + 1, 'ranges are apart');
        for (let a = 0x0a000000 - 1; a <= 0x0a000100; a++) {
          let inRanges = false;
          for (let i = 0; i < v4.length; i += 2) if (a >= v4[i] && a <= v4[i + 1]) inRanges = true;
          assert.equal(inRanges, member(list, a), `address ${a.toString(16)}`);
        }
      }),
    );
  });

  it('split keeps prefixes and lone addresses apart, together covering exactly the union', () => {
    fc.assert(
      fc.property(fc.array(smallCidr, { maxLength: 12 }), (list) => {
        const bag = new PrefixBag();
        for (const c of list) bag.addV4(c.start, c.prefix);
        const { prefixes, hosts } = bag.split();
        const inPrefixes = (a: number) => {
          for (let i = 0; i < prefixes.v4.length; i += 2) if (a >= prefixes.v4[i] && a <= prefixes.v4[i + 1]) return true;
          return false;
        };
        assert.deepEqual([...hosts.v4], [...new Set(hosts.v4)].sort((a, b) => a - b), 'hosts sorted and unique');
        for (const h of hosts.v4) assert.ok(!inPrefixes(h), 'a host inside a prefix is dropped');
        for (let a = 0x0a000000; a < 0x0a000100; a++) assert.equal(inPrefixes(a) || hosts.v4.includes(a), member(list, a));
      }),
    );
  });

  it('the direct IPv4 element path equals the kernel helper rangesToElements (sentinel, ends, open top)', () => {
    const anyCidr = fc.tuple(fc.integer({ min: 0, max: 32 }), fc.nat({ max: 0xffffffff })).map(([prefix, v]) => {
      const size = 2 ** (32 - prefix);
      return { start: v - (v % size), prefix };
    });
    fc.assert(
      fc.property(fc.array(anyCidr, { maxLength: 8 }), (list) => {
        const bag = new PrefixBag();
        for (const c of list) bag.addV4(c.start, c.prefix);
        const merged = bag.merge();
        const norm = (e: ReturnType<typeof intervalElements>) => e.map((x) => ({ key: x.key.toString('hex'), flags: x.flags ?? 0, open: !!x.open }));
        assert.deepEqual(norm(familyElements(merged, 4)), norm(intervalElements(familyRanges(merged, 4))));
      }),
    );
    const top = new PrefixBag();
    top.addV4(0xffffff00, 24);
    assert.deepEqual(familyElements(top.merge(), 4).map((e) => [e.key.toString('hex'), e.flags ?? 0, !!e.open]), [
      ['00000000', 1, false],
      ['ffffff00', 0, true],
    ]);
  });

  it('IPv6 ranges merge when adjacent and overlap', () => {
    const bag = new PrefixBag();
    for (const t of ['2001:db8::/33', '2001:db8:8000::/33', '2001:db8:1::/48', 'fd00::1']) bag.add(parseCidr(t));
    const r = familyRanges(bag.merge(), 6).map(([lo, hi]) => [lo.toString('hex'), hi.toString('hex')]);
    assert.deepEqual(r, [
      ['20010db8000000000000000000000000', '20010db8ffffffffffffffffffffffff'],
      ['fd000000000000000000000000000001', 'fd000000000000000000000000000001'],
    ]);
  });

  it('exactPrefix recognises a range that is one CIDR and nothing else', () => {
    const b = (hex: string) => Buffer.from(hex, 'hex');
    assert.equal(exactPrefix(b('0a000000'), b('0affffff')), 8);
    assert.equal(exactPrefix(b('0a800000'), b('0affffff')), 9);
    assert.equal(exactPrefix(b('0a000001'), b('0a000001')), 32);
    assert.equal(exactPrefix(b('00000000'), b('ffffffff')), 0);
    assert.equal(exactPrefix(b('0a000000'), b('0a000002')), undefined);
    assert.equal(exactPrefix(b('0a000001'), b('0a000002')), undefined);
  });

  it('packedV4 accepts exactly what parseCidr accepts for IPv4, with the same value', () => {
    const check = (text: string) => {
      let parsed: ReturnType<typeof parseCidr> | undefined;
      try {
        parsed = parseCidr(text);
      } catch {
        parsed = undefined;
      }
      const packed = packedV4(text);
      if (parsed?.family === 4) assert.equal(packed, parsed.addr.readUInt32BE(0) * 64 + parsed.prefix, text);
      else assert.equal(packed, -1, text);
    };
    fc.assert(fc.property(fc.stringOf(fc.constantFrom(...'0123456789./'.split('')), { maxLength: 20 }), check), { numRuns: 5000 });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 40 }), fc.boolean(), (o, p, slash) =>
        check(`${o.join('.')}${slash ? `/${p}` : ''}`),
      ),
      { numRuns: 5000 },
    );
    for (const t of ['10.0.0.1/8', '010.0.0.0/8', '10.0.0.0/08', '1.2.3', '1.2.3.4/', '255.255.255.255/32', '0.0.0.0/0', '::1']) check(t);
  });
});
