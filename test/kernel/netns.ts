// A guarded ruleset reset for kernel tests. test/support/kernel.ts's flushRuleset compares against
// /proc/1/ns/net, which this sandbox does not let root read (EACCES); mocha's re-exec makes our
// parent process the one left in the original namespace, so comparing against it is the same guard.
import { readlinkSync } from 'node:fs';
import { nft } from '../support/kernel';

export function assertOwnNetns(): void {
  if (process.env.FLOCKGUARD_TEST_NETNS !== '1') {
    throw new Error('kernel test outside the private test namespace: run it through mocha (see .mocharc.json)');
  }
  if (readlinkSync('/proc/self/ns/net') === readlinkSync(`/proc/${process.ppid}/ns/net`)) {
    throw new Error('kernel test would touch the namespace it was started from: refusing');
  }
}

/** Empties this test run's private ruleset. */
export function resetRuleset(): void {
  assertOwnNetns();
  nft(['flush', 'ruleset']);
}
