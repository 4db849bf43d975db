// Guards for the reconciler's and agent's kernel tests. test/support/kernel.ts compares our network
// namespace with PID 1's, which root cannot read in this CI container (EACCES without ptrace rights
// over PID 1); mocha was re-executed by `unshare -n` from its parent, so comparing with the parent's
// namespace proves the same thing: we are not in the namespace we started from.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { nft } from '../support/kernel';

export function assertOwnNetns(): void {
  if (process.env.FLOCKGUARD_TEST_NETNS !== '1') throw new Error('kernel test outside the private test namespace: run it through mocha');
  if (readlinkSync('/proc/self/ns/net') === readlinkSync(`/proc/${process.ppid}/ns/net`)) {
    throw new Error('kernel test would share its parent\'s network namespace: refusing');
  }
}

/** Empties this test run's own ruleset and brings lo up (for test traffic to 127.0.0.1). */
export function freshNetns(): void {
  assertOwnNetns();
  nft(['flush', 'ruleset']);
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
}
