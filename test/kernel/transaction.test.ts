// The batch a Transaction produces, read back message by message: delimiters, one unique seq per
// message, flags per operation, and the seq -> operation map that names kernel errors.
import assert from 'node:assert/strict';
import { Transaction } from '../../src/kernel';
import { NLM_F_APPEND, NLM_F_CREATE, NLM_F_REPLACE, parseMessages } from '../../src/netlink';
import { NFTA_RULE, nftMsgName, parseNftMessage } from '../../src/nftables';
import { NftSet, SetElement } from '../../src/nftables/model';

const set: NftSet = { family: 'ip', table: 't', name: 's', flags: 0, keyType: 7, keyLen: 4 };
const rule = { family: 'ip' as const, table: 't', chain: 'c', exprs: [], comment: 'r' };

function messages(tx: Transaction, genId?: number) {
  return parseMessages(Buffer.concat(tx.encode(genId)));
}

describe('Transaction', () => {
  it('frames the batch with BATCH_BEGIN (carrying the generation when given) and BATCH_END', () => {
    const tx = new Transaction().addTable({ family: 'ip', name: 't' });
    const ms = messages(tx, 0x1234);
    assert.deepEqual(ms.map((m) => m.type), [16, 0x0a00, 17]);
    // nfgenmsg res_id = htons(NFNL_SUBSYS_NFTABLES), then NFNL_BATCH_GENID be32.
    assert.equal(ms[0].payload.toString('hex'), '0000000a' + '08000100' + '00001234');
    assert.equal(messages(tx)[0].payload.length, 4);
  });

  it('gives every message its own seq and maps each back to its operation and object', () => {
    const elements: SetElement[] = Array.from({ length: 20_000 }, (_, i) => ({ key: Buffer.from([10, 0, i >> 8, i & 255]) }));
    const tx = new Transaction()
      .addTable({ family: 'ip', name: 't' })
      .addChain({ family: 'ip', table: 't', name: 'c' })
      .addSet({ ...set, elements })
      .addRule(rule)
      .deleteElements(set, elements.slice(0, 1));
    assert.equal(tx.size, 6);
    const ms = messages(tx);
    const seqs = ms.map((m) => m.seq);
    assert.equal(new Set(seqs).size, seqs.length);
    const inner = ms.slice(1, -1);
    const ops = inner.map((m) => `${nftMsgName(m.type)} ${tx.describe(m.seq)?.operation}`);
    assert.ok(inner.length > 6, 'the element list is split over several messages');
    assert.ok(ops.every((o) => o.split(' ')[0] === o.split(' ')[1]), ops.join(', '));
    const elementMessages = inner.filter((m) => nftMsgName(m.type) === 'NEWSETELEM');
    assert.match(tx.describe(elementMessages[1].seq)!.object, /^ip t set s \(20000 elements, message 2 of \d+\)$/);
    assert.equal(tx.describe(ms[0].seq)?.operation, 'BATCH');
  });

  it('uses nf_tables_newrule\'s flags for append, insert before, add after and replace', () => {
    const tx = new Transaction()
      .addRule(rule)
      .addRule(rule, { before: 7n })
      .addRule(rule, { after: 7n })
      .replaceRule({ ...rule, handle: 9n });
    const rules = messages(tx).slice(1, -1).map((m) => ({ flags: m.flags & 0xfff, nm: parseNftMessage(m)! }));
    assert.deepEqual(
      rules.map((r) => [r.flags & ~1, r.nm.attrs.u64be(NFTA_RULE.POSITION), r.nm.attrs.u64be(NFTA_RULE.HANDLE)]),
      [
        [NLM_F_CREATE | NLM_F_APPEND, undefined, undefined],
        [NLM_F_CREATE, 7n, undefined],
        [NLM_F_CREATE | NLM_F_APPEND, 7n, undefined],
        [NLM_F_REPLACE, undefined, 9n],
      ],
    );
  });

  it('refers to a set created in the same batch by its transaction id', () => {
    const tx = new Transaction().addSet({ ...set, elements: [{ key: Buffer.from([1, 2, 3, 4]) }] });
    const [newset, newelem] = messages(tx).slice(1, -1).map((m) => parseNftMessage(m)!);
    const id = newset.attrs.u32be(10);
    assert.ok(id);
    assert.equal(newelem.attrs.u32be(4), id);
  });

  it('becomes unusable when an operation fails to encode, instead of sending half a message', () => {
    const tx = new Transaction().addTable({ family: 'ip', name: 't' });
    assert.throws(() => tx.addElements(set, [{ key: Buffer.alloc(0) }]));
    assert.throws(() => tx.encode(), /unusable/);
  });
});
