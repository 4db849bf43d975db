// Test-only: loads a compiled Ruleset into this namespace's kernel through our own netlink client
// (src/kernel), in one batch: table, sets with their elements, every chain, then the rules (a jump
// or goto needs its target chain to exist first).
import { NftClient, Transaction } from '../../src/kernel';
import { Ruleset } from '../../src/nftables/model';
import { assertPrivateNetns as assertOwnNetns } from '../support/kernel';

export async function loadViaNetlink(rs: Ruleset): Promise<void> {
  assertOwnNetns();
  const tx = new Transaction();
  tx.addTable(rs.table);
  for (const s of rs.sets) tx.addSet(s);
  for (const c of rs.chains) tx.addChain(c);
  for (const c of rs.chains) for (const r of rs.rules.get(c.name) ?? []) tx.addRule(r);
  const client = NftClient.open();
  try {
    await client.commit(tx);
  } finally {
    client.close();
  }
}
