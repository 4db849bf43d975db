// Guards for the compiler's kernel tests. test/support/kernel.ts compares our network namespace with
// PID 1's, which a root without ptrace rights over PID 1 cannot read (EACCES in this CI container);
// the mocha process was re-executed by `unshare -n` from its parent, so comparing with the parent's
// namespace proves the same thing: we are not in the namespace we started from.
import { readlinkSync } from 'node:fs';
import { nft } from '../support/kernel';

export function assertOwnNetns(): void {
  if (process.env.FLOCKGUARD_TEST_NETNS !== '1') throw new Error('kernel test outside the private test namespace: run it through mocha');
  if (readlinkSync('/proc/self/ns/net') === readlinkSync(`/proc/${process.ppid}/ns/net`)) {
    throw new Error('kernel test would share its parent\'s network namespace: refusing');
  }
}

/** Empties the ruleset of this test run's own namespace. */
export function flushOwnRuleset(): void {
  assertOwnNetns();
  nft(['flush', 'ruleset']);
}
