// Our encoder against nft's own bytes, and our decoder reading them (see golden-cases.ts).
import assert from 'node:assert/strict';
import { AttributeReader, AttributeWriter } from '../../../src/netlink';
import { readExprs, writeExprs } from '../../../src/nftables/expr';
import { goldenCases } from './golden-cases';

function encode(exprs: Parameters<typeof writeExprs>[1]): string {
  const w = new AttributeWriter(64);
  writeExprs(w, exprs);
  return w.toBuffer().toString('hex');
}

describe('nf_tables expressions: golden bytes from nft', () => {
  for (const c of goldenCases) {
    describe(`nft ${c.nft}`, () => {
      const golden = c.hex.join('');

      if (c.dropsDefault) {
        it(`encodes to nft's bytes without ${c.dropsDefault}, which decode the same`, () => {
          const ours = encode(c.exprs);
          assert.equal(ours.length, golden.length - 16, 'one 8-byte attribute fewer');
          assert.deepStrictEqual(readExprs(new AttributeReader(Buffer.from(ours, 'hex'))), c.exprs);
        });
      } else {
        it('encodes to the bytes nft sent', () => {
          assert.equal(encode(c.exprs), golden);
        });
      }

      it('decodes nft\'s bytes to the expected expressions', () => {
        assert.deepStrictEqual(readExprs(new AttributeReader(Buffer.from(golden, 'hex'))), c.exprs);
      });

      if (!c.dropsDefault) {
        it('re-encodes what it decoded byte for byte', () => {
          assert.equal(encode(readExprs(new AttributeReader(Buffer.from(golden, 'hex')))), golden);
        });
      }
    });
  }
});
