// nft's interval encoding, checked against the element sequences nft sends (tests/py ip/sets.t
// payloads and our golden dump) and against itself over generated range lists.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { elementsToRanges, rangesToElements } from '../../src/nftables';
import { SetElement } from '../../src/nftables/model';

const ip = (s: string) => Buffer.from(s.split('.').map(Number));
const show = (els: SetElement[]) =>
  els.map((e) => `${e.key.toString('hex')}${e.flags ? ' end' : ''}${e.open ? ' open' : ''}`);

describe('interval encoding', () => {
  it('encodes CIDRs as start and exclusive end elements, with the zero sentinel for a fresh set', () => {
    const els = rangesToElements([[ip('10.0.0.0'), ip('10.255.255.255')], [ip('1.1.1.0'), ip('1.1.1.255')]], { fresh: true });
    assert.deepEqual(show(els), ['00000000 end', '01010100', '01010200 end', '0a000000', '0b000000 end']);
  });

  it('sends no sentinel when adding to a set that has elements, nor when the first range starts at zero', () => {
    assert.deepEqual(show(rangesToElements([[ip('1.1.1.0'), ip('1.1.1.255')]], { fresh: false })), ['01010100', '01010200 end']);
    assert.deepEqual(show(rangesToElements([[ip('0.0.0.0'), ip('0.255.255.255')]], { fresh: true })), ['00000000', '01000000 end']);
  });

  it('marks a range that runs to the top as open instead of sending an end that would overflow', () => {
    assert.deepEqual(show(rangesToElements([[ip('0.0.0.0'), ip('255.255.255.255')]], { fresh: true })), ['00000000 open']);
    assert.deepEqual(show(rangesToElements([[ip('255.0.0.0'), ip('255.255.255.255')]], { fresh: true })), ['00000000 end', 'ff000000 open']);
  });

  it('refuses overlapping ranges, naming both', () => {
    assert.throws(
      () => rangesToElements([[ip('10.0.0.0'), ip('10.255.255.255')], [ip('10.1.0.0'), ip('10.1.255.255')]], { fresh: true }),
      (e: Error & { code?: string }) => e.code === 'NFT_INTERVAL_OVERLAP' && /0a000000-0affffff/.test(e.message) && /0a010000-0a01ffff/.test(e.message),
    );
  });

  it('decodes elements in any order, as dumps return them', () => {
    const els = rangesToElements([[ip('10.0.0.0'), ip('10.0.0.255')], [ip('10.0.1.0'), ip('10.0.1.0')], [ip('200.0.0.0'), ip('255.255.255.255')]], { fresh: true });
    const reversed = [...els].reverse();
    assert.deepEqual(elementsToRanges(reversed), [
      [ip('10.0.0.0'), ip('10.0.0.255')],
      [ip('10.0.1.0'), ip('10.0.1.0')],
      [ip('200.0.0.0'), ip('255.255.255.255')],
    ]);
  });

  it('round-trips generated non-overlapping range lists', () => {
    const rangeList = fc
      .uniqueArray(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 60 })
      .chain((points) => {
        const sorted = [...points].sort((a, b) => a - b);
        // Pair consecutive points into disjoint ranges [p0, p1], [p2, p3], ...
        const ranges: Array<[number, number]> = [];
        for (let i = 0; i + 1 < sorted.length; i += 2) ranges.push([sorted[i], sorted[i + 1]]);
        if (sorted.length % 2) ranges.push([sorted[sorted.length - 1], sorted[sorted.length - 1]]);
        return fc.shuffledSubarray(ranges, { minLength: ranges.length, maxLength: ranges.length });
      });
    const b16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
    fc.assert(
      fc.property(rangeList, fc.boolean(), (ranges, fresh) => {
        const bufs = ranges.map(([lo, hi]) => [b16(lo), b16(hi)] as [Buffer, Buffer]);
        const els = rangesToElements(bufs, { fresh });
        const back = elementsToRanges([...els].reverse());
        const expected = [...ranges].sort((a, b) => a[0] - b[0]).map(([lo, hi]) => [b16(lo), b16(hi)]);
        assert.deepEqual(back, expected);
      }),
    );
  });
});
