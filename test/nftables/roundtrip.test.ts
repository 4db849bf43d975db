// Round trips over generated objects: encode -> decode yields the object, and decode -> encode the
// same bytes. Decoding reads what the kernel sends, so this pins the two directions to each other.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AttributeWriter, NLM_F_CREATE, parseMessages } from '../../src/netlink';
import {
  NftMessage,
  NftMsg,
  decodeChain,
  decodeRule,
  decodeSet,
  decodeSetElements,
  decodeTable,
  encodeChain,
  encodeRule,
  encodeSet,
  encodeSetElements,
  encodeTable,
  parseNftMessage,
} from '../../src/nftables';
import { Chain, Family, Hook, NftSet, Rule, SetElement, Table, Verdict } from '../../src/nftables/model';

const name = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\0'));
const comment = fc.string({ maxLength: 60 }).filter((s) => !s.includes('\0') && Buffer.byteLength(s) < 128);
const family = fc.constantFrom<Family>('ip', 'ip6', 'inet', 'bridge', 'arp');
const handle = fc.bigUintN(64).filter((h) => h > 0n);

function messages(w: AttributeWriter): NftMessage[] {
  return parseMessages(w.toBuffer()).map((m) => {
    const nm = parseNftMessage(m);
    assert.ok(nm);
    return nm;
  });
}

function roundTrip<T>(value: T, encode: (w: AttributeWriter, v: T) => void, decode: (m: NftMessage) => T): void {
  const w1 = new AttributeWriter(16);
  encode(w1, value);
  const [m] = messages(w1);
  const decoded = decode(m);
  assert.deepEqual(decoded, value);
  const w2 = new AttributeWriter(16);
  encode(w2, decoded);
  assert.ok(w2.toBuffer().equals(w1.toBuffer()));
}

const tableArb: fc.Arbitrary<Table> = fc.record(
  // Handles are kernel-assigned: requests never carry them for tables, chains and sets.
  { family, name, flags: fc.constantFrom(0x1, 0x2, 0x4, 0x6), comment },
  { requiredKeys: ['family', 'name'] },
);

const inetHook = fc.constantFrom<Hook>('prerouting', 'input', 'forward', 'output', 'postrouting');
const chainArb: fc.Arbitrary<Chain> = fc
  .record(
    {
      family: fc.constantFrom<Family>('ip', 'ip6', 'inet'),
      table: name,
      name,
      base: fc.record({
        type: fc.constantFrom('filter' as const, 'nat' as const, 'route' as const),
        hook: inetHook,
        priority: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        policy: fc.constantFrom('accept' as const, 'drop' as const),
      }),
      comment,
    },
    { requiredKeys: ['family', 'table', 'name'] },
  );

const exprArb = fc.oneof(
  fc.record({ type: fc.constant('counter' as const), packets: fc.bigUintN(64), bytes: fc.bigUintN(64) }),
  // Expressions without a codec travel as opaque bytes; 'x-' names are never registered codecs.
  fc.record({
    type: fc.constant('opaque' as const),
    name: fc.stringMatching(/^x-[a-z]{1,10}$/),
    data: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  }),
);

const ruleArb: fc.Arbitrary<Rule> = fc.record(
  { family, table: name, chain: name, exprs: fc.array(exprArb, { maxLength: 6 }), comment, handle, position: handle },
  { requiredKeys: ['family', 'table', 'chain', 'exprs'] },
);

const setArb: fc.Arbitrary<NftSet> = fc.record(
  {
    family,
    table: name,
    name,
    flags: fc.integer({ min: 0, max: 0x1ff }),
    keyType: fc.integer({ min: 0, max: 2 ** 30 }),
    keyLen: fc.integer({ min: 1, max: 64 }),
    fieldLengths: fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 2, maxLength: 5 }),
    size: fc.integer({ min: 1, max: 1_000_000 }),
    keyByteOrder: fc.constantFrom('host' as const, 'big' as const),
    comment,
    id: fc.integer({ min: 1, max: 2 ** 31 }),
  },
  { requiredKeys: ['family', 'table', 'name', 'flags', 'keyType', 'keyLen'] },
);

const mapArb: fc.Arbitrary<NftSet> = fc
  .tuple(setArb, fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 64 }))
  .map(([s, dataType, dataLen]) => ({ ...s, flags: s.flags | 0x8, dataType, dataLen }));

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const verdictArb: fc.Arbitrary<Verdict> = fc.oneof(
  fc.constantFrom<Verdict>({ kind: 'accept' }, { kind: 'drop' }, { kind: 'return' }, { kind: 'continue' }),
  fc.record({ kind: fc.constantFrom('jump' as const, 'goto' as const), chain: name }),
);
const elementArb: fc.Arbitrary<SetElement> = fc.record(
  { key: bytes(1, 16), keyEnd: bytes(1, 16), flags: fc.constantFrom(1, 2), data: bytes(1, 16), verdict: verdictArb, comment, open: fc.constant(true) },
  { requiredKeys: ['key'] },
).map((e) => {
  // An element has map data or a verdict, never both.
  if (e.verdict) delete e.data;
  return e;
});

describe('object codec round trips', () => {
  it('tables', () => {
    fc.assert(fc.property(tableArb, (t) => roundTrip(t, (w, v) => encodeTable(w, v, { msg: NftMsg.NEWTABLE, flags: NLM_F_CREATE, seq: 1 }), decodeTable)));
  });

  it('chains, base and regular', () => {
    fc.assert(fc.property(chainArb, (c) => roundTrip(c, (w, v) => encodeChain(w, v, { msg: NftMsg.NEWCHAIN, flags: NLM_F_CREATE, seq: 1 }), decodeChain)));
  });

  it('rules with comments, handles, positions and expressions', () => {
    fc.assert(
      fc.property(ruleArb, (r) =>
        roundTrip(r, (w, v) => encodeRule(w, v, { msg: NftMsg.NEWRULE, flags: NLM_F_CREATE, seq: 1 }, v.position), decodeRule),
      ),
    );
  });

  it('sets and maps, with concatenation descriptions and userdata', () => {
    fc.assert(fc.property(fc.oneof(setArb, mapArb), (s) => roundTrip(s, (w, v) => encodeSet(w, v, { msg: NftMsg.NEWSET, flags: NLM_F_CREATE, seq: 1 }), decodeSet)));
  });

  it('element lists, split over as many messages as the 16-bit nest length needs', () => {
    fc.assert(
      fc.property(fc.array(elementArb, { maxLength: 3000 }), fc.integer({ min: 1, max: 2 ** 31 }), (elements, id) => {
        const w = new AttributeWriter(16);
        let seq = 0;
        const seqs = encodeSetElements(w, { family: 'inet', table: 't', name: 's', id }, elements, { msg: NftMsg.NEWSETELEM, flags: NLM_F_CREATE }, () => ++seq);
        const msgs = messages(w);
        assert.equal(msgs.length, seqs.length);
        assert.deepEqual(msgs.map((m) => m.seq), seqs);
        for (const m of msgs) assert.ok(m.attrs.bytes(3)!.length <= 0xffff);
        const decoded = msgs.flatMap((m) => decodeSetElements(m).elements);
        assert.deepEqual(decoded, elements);
        const w2 = new AttributeWriter(16);
        seq = 0;
        encodeSetElements(w2, { family: 'inet', table: 't', name: 's', id }, decoded, { msg: NftMsg.NEWSETELEM, flags: NLM_F_CREATE }, () => ++seq);
        assert.ok(w2.toBuffer().equals(w.toBuffer()));
      }),
      { numRuns: 30 },
    );
  });

  it('splits a 100,000-element list into messages that each fit a nest', () => {
    const elements: SetElement[] = [];
    for (let i = 0; i < 100_000; i++) elements.push({ key: Buffer.from([10, i >> 16, (i >> 8) & 0xff, i & 0xff]) });
    const w = new AttributeWriter();
    let seq = 0;
    const seqs = encodeSetElements(w, { family: 'ip', table: 't', name: 's' }, elements, { msg: NftMsg.NEWSETELEM, flags: NLM_F_CREATE }, () => ++seq);
    assert.ok(seqs.length > 1);
    const decoded = messages(w).flatMap((m) => decodeSetElements(m).elements);
    assert.equal(decoded.length, elements.length);
    assert.deepEqual(decoded[99_999], elements[99_999]);
  });
});
