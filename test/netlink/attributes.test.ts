import assert from 'node:assert/strict';
import { AttributeReader, AttributeWriter, NLA_F_NESTED } from '../../src/netlink';

describe('netlink attributes', () => {
  it('pads each attribute to 4 bytes and records the unpadded length', () => {
    const w = new AttributeWriter();
    w.string(1, 'abc').u8(2, 7);
    // "abc\0" is 4 bytes: len 8, no padding; u8 is len 5 padded to 8.
    assert.equal(w.toBuffer().toString('hex'), '08000100' + '61626300' + '05000200' + '07000000');
  });

  it('reads back what it wrote, with the same method names', () => {
    const w = new AttributeWriter(8);
    w.u16be(1, 0x1234).u32be(2, 0xdeadbeef).i32be(3, -150).u64be(4, 2n ** 63n + 5n).string(5, 'flockguard');
    w.nest(6, (n) => n.u32(1, 42).bytes(2, Buffer.from([1, 2, 3])));
    const r = new AttributeReader(w.toBuffer());
    assert.equal(r.u16be(1), 0x1234);
    assert.equal(r.u32be(2), 0xdeadbeef);
    assert.equal(r.i32be(3), -150);
    assert.equal(r.u64be(4), 2n ** 63n + 5n);
    assert.equal(r.string(5), 'flockguard');
    const nest = r.nest(6);
    assert.ok(nest);
    assert.equal(nest.u32(1), 42);
    assert.deepEqual([...(nest.bytes(2) ?? [])], [1, 2, 3]);
  });

  it('sets NLA_F_NESTED on nests it writes and masks flag bits when reading', () => {
    const w = new AttributeWriter();
    w.nest(3, (n) => n.u8(1, 1));
    const buf = w.toBuffer();
    assert.equal(buf.readUInt16LE(2), 3 | NLA_F_NESTED);
    assert.ok(new AttributeReader(buf).has(3));
  });

  it('refuses a truncated attribute instead of reading past its end', () => {
    const w = new AttributeWriter();
    w.string(1, 'hello world');
    const cut = w.toBuffer().subarray(0, 9);
    assert.throws(() => new AttributeReader(cut), /truncated attribute type 1/);
  });

  it('keeps every occurrence of a repeated type in wire order', () => {
    const w = new AttributeWriter();
    w.u32(1, 10).u32(2, 0).u32(1, 11);
    assert.deepEqual(new AttributeReader(w.toBuffer()).all(1).map((b) => b.readUInt32LE(0)), [10, 11]);
  });
});
