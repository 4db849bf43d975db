// Helpers for kernel tests. They run inside the private namespace set up by private-netns.ts, so
// flushing the ruleset here never touches the host's.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { NftClient } from '../../src/kernel';
import { Ruleset } from '../../src/nftables/model';

/** Runs `nft` with the given arguments (and optional stdin) and returns its stdout. */
export function nft(args: string[], input?: string): string {
  return execFileSync('nft', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Loads nft text with `nft -f -`. */
export function nftLoad(text: string): void {
  nft(['-f', '-'], text);
}

/** Empties this namespace's ruleset. Refuses to run outside the private test namespace. */
export function flushRuleset(): void {
  assertPrivateNetns();
  nft(['flush', 'ruleset']);
}

/** Empties this namespace's ruleset and brings lo up (for test traffic to 127.0.0.1). */
export function freshNetns(): void {
  flushRuleset();
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
}

export function assertPrivateNetns(): void {
  if (process.env.FLOCKGUARD_TEST_NETNS !== '1') {
    throw new Error('kernel test outside the private test namespace: run it through mocha (see .mocharc.json)');
  }
  // The run was re-executed by `unshare -n` from its parent (private-netns.ts), so our namespace must
  // differ from the parent's. PID 1's cannot serve: a container's root may not read /proc/1/ns.
  if (readlinkSync('/proc/self/ns/net') === readlinkSync(`/proc/${process.ppid}/ns/net`)) {
    throw new Error('kernel test would share its parent\'s network namespace: refusing');
  }
}

/** This namespace's table inet flockguard, read through our own client, with the generation it was read at. */
export async function kernelTable(): Promise<{ generation: number; ruleset: Ruleset | undefined }> {
  const c = NftClient.open();
  try {
    return await c.dumpTable('inet', 'flockguard');
  } finally {
    c.close();
  }
}

/** This namespace's ruleset generation id. */
export async function kernelGeneration(): Promise<number> {
  const c = NftClient.open();
  try {
    return (await c.getGeneration()).id;
  } finally {
    c.close();
  }
}
