// Golden bytes: our encoders produce the messages nft itself sends for the same command. Each case
// names the nft command; the dumps under golden/ are `nft --debug=mnl` output captured in `unshare -n`.
// libmnl's dump omits the netlink header's high flag bits, so those are compared separately with the
// flags nft is documented to send (nf_tables_api.c, spec section 1.4).
import assert from 'node:assert/strict';
import { AttributeWriter, NLM_F_CREATE } from '../../src/netlink';
import {
  NftMsg,
  encodeChain,
  encodeSet,
  encodeSetElements,
  encodeTable,
  nftMsgType,
  rangesToElements,
  writeBatchBegin,
  writeBatchEnd,
} from '../../src/nftables';
import { MnlMessage, loadGolden } from './mnl';

const ip = (s: string) => Buffer.from(s.split('.').map(Number));

function only(batch: MnlMessage[], msg: number): MnlMessage {
  const found = batch.filter((m) => m.type === nftMsgType(msg));
  assert.equal(found.length, 1, `one message of type ${msg} in the golden batch`);
  return found[0];
}

/** Our message with the high flag bits cleared as libmnl's dump does; the full flags separately. */
function lowFlags(b: Buffer): { bytes: Buffer; flags: number } {
  const bytes = Buffer.from(b);
  const flags = bytes.readUInt16LE(6);
  bytes.writeUInt16LE(flags & 0xf, 6);
  return { bytes, flags };
}

describe('golden bytes against nft --debug=mnl', () => {
  it(`NEWTABLE: ${loadGolden('newtable').command}`, () => {
    const golden = only(loadGolden('newtable').batch, NftMsg.NEWTABLE);
    const w = new AttributeWriter();
    encodeTable(w, { family: 'inet', name: 'flockguard', comment: 'fg' }, { msg: NftMsg.NEWTABLE, flags: NLM_F_CREATE, seq: golden.seq });
    const ours = lowFlags(w.toBuffer());
    assert.equal(ours.bytes.toString('hex'), golden.bytes.toString('hex'));
    assert.equal(ours.flags, 0x401);
  });

  it(`NEWCHAIN base chain: ${loadGolden('newchain').command}`, () => {
    const golden = only(loadGolden('newchain').batch, NftMsg.NEWCHAIN);
    const w = new AttributeWriter();
    encodeChain(
      w,
      { family: 'inet', table: 'flockguard', name: 'pre', base: { type: 'filter', hook: 'prerouting', priority: -150, policy: 'drop' } },
      { msg: NftMsg.NEWCHAIN, flags: NLM_F_CREATE, seq: golden.seq },
    );
    const ours = lowFlags(w.toBuffer());
    assert.equal(ours.bytes.toString('hex'), golden.bytes.toString('hex'));
    assert.ok(ours.bytes.includes(Buffer.from('ffffff6a', 'hex')), 'priority -150 as signed be32');
  });

  it(`NEWSET interval: ${loadGolden('newset').command}`, () => {
    const golden = only(loadGolden('newset').batch, NftMsg.NEWSET);
    const w = new AttributeWriter();
    encodeSet(
      w,
      { family: 'inet', table: 'flockguard', name: 'nets', flags: 0x4, keyType: 7, keyLen: 4, keyByteOrder: 'big', id: 1 },
      { msg: NftMsg.NEWSET, flags: NLM_F_CREATE, seq: golden.seq },
    );
    assert.equal(lowFlags(w.toBuffer()).bytes.toString('hex'), golden.bytes.toString('hex'));
  });

  it(`NEWSETELEM interval with the zero sentinel and an open interval: ${loadGolden('newsetelem').command}`, () => {
    const golden = only(loadGolden('newsetelem').batch, NftMsg.NEWSETELEM);
    const elements = rangesToElements(
      [
        [ip('10.0.0.0'), ip('10.255.255.255')],
        [ip('192.168.1.1'), ip('192.168.1.1')],
        [ip('255.0.0.0'), ip('255.255.255.255')],
      ],
      { fresh: true },
    );
    const w = new AttributeWriter();
    const seqs = encodeSetElements(
      w,
      { family: 'inet', table: 'flockguard', name: 'nets', id: 1 },
      elements,
      { msg: NftMsg.NEWSETELEM, flags: NLM_F_CREATE },
      () => golden.seq,
    );
    assert.deepEqual(seqs, [golden.seq]);
    assert.equal(lowFlags(w.toBuffer()).bytes.toString('hex'), golden.bytes.toString('hex'));
  });

  it(`BATCH_BEGIN and BATCH_END: ${loadGolden('newtable').command}`, () => {
    const batch = loadGolden('newtable').batch;
    const [begin, end] = [batch[0], batch[batch.length - 1]];
    const w = new AttributeWriter();
    writeBatchBegin(w, begin.seq);
    assert.equal(w.toBuffer().toString('hex'), begin.bytes.toString('hex'));
    const e = new AttributeWriter();
    writeBatchEnd(e, end.seq);
    assert.equal(e.toBuffer().toString('hex'), end.bytes.toString('hex'));
  });

  it('BATCH_BEGIN with NFNL_BATCH_GENID: nft never sends it, so the layout is nft\'s header plus the be32 attribute', () => {
    const begin = loadGolden('newtable').batch[0];
    const w = new AttributeWriter();
    writeBatchBegin(w, begin.seq, 0x01020304);
    const expected = Buffer.concat([begin.bytes, Buffer.from('0800010001020304', 'hex')]);
    expected.writeUInt32LE(expected.length, 0);
    assert.equal(w.toBuffer().toString('hex'), expected.toString('hex'));
  });
});
