// Test-only: what the kernel did with one frame. Our table's per-rule counters say which rules
// matched (every compiled rule counts before its verdict); an observer table with a chain before
// ours (-300) and one after every pre-DNAT chain (300) says that the frame arrived and whether it
// got through. Counters are read with our client; the frames come from a Wire.
import { NftClient } from '../../src/kernel';
import { Ruleset } from '../../src/nftables/model';
import { nftLoad } from '../support/kernel';
import { Wire } from './wire';

export const OBSERVER = 'fgobserve';

export function loadObserver(wire: Wire): void {
  nftLoad(`table inet ${OBSERVER} {
  chain first { type filter hook prerouting priority -300; iifname "${wire.rx}" counter; }
  chain last { type filter hook prerouting priority 300; iifname "${wire.rx}" counter; }
}`);
}

/** Packets counted per rule position ("chain[index]") of a dumped table. */
export function ruleCounts(rs: Ruleset | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [chain, rules] of rs?.rules ?? []) {
    rules.forEach((r, i) => {
      const c = r.exprs.find((e) => e.type === 'counter');
      if (c?.type === 'counter') out.set(`${chain}[${i}]`, c.packets);
    });
  }
  return out;
}

export interface KernelOutcome {
  /** Rules of our table that matched the frame, as "chain[index]". */
  matched: Set<string>;
  /** The frame passed every prerouting chain up to priority 300. */
  accepted: boolean;
}

export async function sendAndObserve(client: NftClient, wire: Wire, frame: Buffer, table = 'flockguard'): Promise<KernelOutcome> {
  const observer = async (): Promise<Map<string, bigint>> => ruleCounts((await client.dumpTable('inet', OBSERVER)).ruleset);
  const before = ruleCounts((await client.dumpTable('inet', table)).ruleset);
  const obsBefore = await observer();
  await wire.send(frame);
  let obsAfter = await observer();
  for (let i = 0; i < 200 && obsAfter.get('first[0]') === obsBefore.get('first[0]'); i++) {
    await new Promise((r) => setTimeout(r, 5));
    obsAfter = await observer();
  }
  if (obsAfter.get('first[0]')! - obsBefore.get('first[0]')! !== 1n) throw new Error('the frame did not arrive exactly once on the wire');
  // The hook walk that started at -300 may still be running on another CPU: let it finish.
  await new Promise((r) => setTimeout(r, 3));
  obsAfter = await observer();
  const after = ruleCounts((await client.dumpTable('inet', table)).ruleset);
  const matched = new Set<string>();
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0n)) matched.add(k);
  return { matched, accepted: obsAfter.get('last[0]')! > obsBefore.get('last[0]')! };
}
