// Encoders refuse what the kernel would refuse (or silently ignore), with a stable code and a
// message naming expression, field and value; decoders keep forms the model cannot express opaque.
import assert from 'node:assert/strict';
import { AttributeReader, AttributeWriter } from '../../../src/netlink';
import { readData, writeData } from '../../../src/nftables/data';
import { readExprs, writeExprs } from '../../../src/nftables/expr';
import { Expr } from '../../../src/nftables/model';
import { readVerdict, verdictCode, verdictKind, writeVerdict } from '../../../src/nftables/verdict';

function encode(exprs: Expr[]): Buffer {
  const w = new AttributeWriter();
  writeExprs(w, exprs);
  return Buffer.from(w.toBuffer());
}

const b = (h: string) => Buffer.from(h, 'hex');

describe('nf_tables expressions: refusing bad input', () => {
  const bad: Array<[string, Expr, RegExp]> = [
    ['a register that does not exist', { type: 'meta', key: 'mark', dreg: 5 }, /meta expression: dreg 5: not an nf_tables register/],
    ['an unknown meta key', { type: 'meta', key: 'colour' as never, dreg: 1 }, /meta expression: key "colour": unknown name/],
    ['cmp data longer than 64 bytes', { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.alloc(65) }, /65 bytes/],
    ['empty cmp data', { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.alloc(0) }, /0 bytes/],
    ['range bounds of different lengths', { type: 'range', sreg: 1, op: 'eq', from: b('0001'), to: b('000002') }, /range expression: to 0x000002 \(3 bytes\): must be as long as from \(2 bytes\)/],
    ['a bitwise mask shorter than len', { type: 'bitwise', sreg: 1, dreg: 1, len: 4, mask: b('ff'), xor: b('00000000') }, /bitwise expression: mask 0xff \(1 bytes\): must be len \(4\)/],
    ['a payload longer than the registers', { type: 'payload', base: 'network', offset: 0, len: 65, dreg: 1 }, /payload expression: len 65/],
    ['log level together with group', { type: 'log', group: 1, level: 4 }, /log expression: level 4: cannot be combined with group/],
    ['log flags together with group', { type: 'log', group: 1, flags: 1 }, /log expression: flags 1: cannot be combined with group/],
    ['snaplen without group', { type: 'log', snaplen: 64 }, /log expression: snaplen 64: needs a group/],
    ['unknown log flags', { type: 'log', flags: 0x10 }, /log expression: flags 16: unknown bits/],
    ['a log prefix over 127 bytes', { type: 'log', prefix: 'x'.repeat(128) }, /log expression: prefix "x+": longer than 127 bytes/],
    ['log level 9', { type: 'log', level: 9 }, /log expression: level 9/],
    ['a zero limit rate', { type: 'limit', rate: 0n, unit: 1n, burst: 5, limitType: 'packets' }, /limit expression: rate 0/],
    ['an empty lookup set name', { type: 'lookup', set: '', sreg: 1 }, /lookup expression: set "": must be 1..255 bytes/],
    ['immediate data into the verdict register', { type: 'immediate', dreg: 0, data: b('01') }, /immediate expression: dreg 0: register 0 takes a verdict/],
  ];
  for (const [what, e, message] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => encode([e]), (err: Error & { code?: string }) => {
        assert.match(err.message, message);
        assert.ok(err.code === 'NFT_BAD_EXPR' || err.code === 'NFT_BAD_DATA', `code ${err.code}`);
        return true;
      });
    });
  }

  it('refuses a jump without a chain and a chain on accept', () => {
    for (const verdict of [{ kind: 'jump' as const }, { kind: 'accept' as const, chain: 'c' }]) {
      assert.throws(() => encode([{ type: 'immediate', dreg: 0, verdict }]), { code: 'NFT_BAD_VERDICT' });
    }
  });
});

describe('nf_tables data and verdict nests', () => {
  it('maps every verdict kind to its kernel code and back', () => {
    const codes = { drop: 0, accept: 1, queue: 3, continue: -1, break: -2, jump: -3, goto: -4, return: -5 } as const;
    for (const [kind, code] of Object.entries(codes)) {
      assert.equal(verdictCode(kind as keyof typeof codes), code);
      assert.equal(verdictKind(code), kind);
    }
    assert.throws(() => verdictKind(2), { code: 'NFT_BAD_VERDICT', message: /unknown verdict code 2/ });
    // A queue verdict with a queue number in the upper bits is not a plain NF_QUEUE.
    assert.throws(() => verdictKind(0x10003), { code: 'NFT_BAD_VERDICT' });
  });

  it('reads a value nest as data and not as a verdict, and the other way round', () => {
    const w = new AttributeWriter();
    writeData(w, 1, b('0a000001'));
    writeVerdict(w, 2, { kind: 'goto', chain: 'next' });
    const r = new AttributeReader(w.toBuffer());
    assert.deepEqual(readData(r, 1), b('0a000001'));
    assert.equal(readVerdict(r, 1), undefined);
    assert.deepEqual(readVerdict(r, 2), { kind: 'goto', chain: 'next' });
    assert.equal(readData(r, 2), undefined);
    assert.equal(readData(r, 3), undefined);
  });

  it('keeps an immediate whose verdict the model cannot express (binding chain id) opaque', () => {
    // immediate { DREG 0, DATA { VERDICT { CODE -3 (jump), CHAIN_ID 7 } } }
    const elem = new AttributeWriter();
    elem.nest(1, () => {
      elem.string(1, 'immediate');
      elem.nest(2, () => {
        elem.u32be(1, 0);
        elem.nest(2, () => elem.nest(2, () => elem.i32be(1, -3).u32be(3, 7)));
      });
    });
    const data = new AttributeReader(elem.toBuffer()).nest(1)!.bytes(2)!;
    const exprs = readExprs(new AttributeReader(elem.toBuffer()));
    assert.deepStrictEqual(exprs, [{ type: 'opaque', name: 'immediate', data: Buffer.from(data) }]);
    assert.ok(encode(exprs).equals(elem.toBuffer()));
  });
});
