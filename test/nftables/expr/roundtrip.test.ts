// Property tests: any expression the model can hold encodes, decodes to an equal value, and the
// encoding is stable (decode then encode gives the same bytes); any list of them formats.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AttributeReader, AttributeWriter } from '../../../src/netlink';
import { readExprs, writeExprs } from '../../../src/nftables/expr';
import { formatExprs } from '../../../src/nftables/format';
import { Expr } from '../../../src/nftables/model';
import { expr } from './arbitraries';

function encode(exprs: readonly Expr[]): Buffer {
  const w = new AttributeWriter(16);
  writeExprs(w, exprs);
  return Buffer.from(w.toBuffer());
}

const decode = (bytes: Buffer): Expr[] => readExprs(new AttributeReader(bytes));

describe('nf_tables expressions: round trips (property)', () => {
  it('decode(encode(exprs)) equals exprs', () => {
    fc.assert(fc.property(fc.array(expr, { maxLength: 12 }), (exprs) => {
      assert.deepStrictEqual(decode(encode(exprs)), exprs);
    }), { numRuns: 2000 });
  });

  it('encode(decode(bytes)) reproduces the bytes', () => {
    fc.assert(fc.property(fc.array(expr, { maxLength: 12 }), (exprs) => {
      const bytes = encode(exprs);
      assert.ok(encode(decode(bytes)).equals(bytes));
    }), { numRuns: 2000 });
  });

  it('formats any expression list without throwing', () => {
    fc.assert(fc.property(fc.array(expr, { maxLength: 12 }), fc.constantFrom('inet' as const, 'ip' as const, 'ip6' as const), (exprs, family) => {
      const text = formatExprs(exprs, { family });
      assert.equal(typeof text, 'string');
      if (exprs.length) assert.notEqual(text, '');
    }), { numRuns: 2000 });
  });
});
