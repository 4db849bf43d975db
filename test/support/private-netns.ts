// Loaded by mocha before any test (.mocharc.json "require"). The host's ruleset is not ours: the
// whole test run re-executes itself inside a network namespace of its own (unshare -n, or -rn when
// not root), which the kernel removes when the run ends. Kernel tests can then flush and load rulesets
// freely, and `nft` run by a test sees the same namespace.
import { spawnSync } from 'node:child_process';

const MARK = 'FLOCKGUARD_TEST_NETNS';

if (process.env[MARK] !== '1') {
  const unshareArgs = process.getuid?.() === 0 ? ['-n'] : ['-rn'];
  const r = spawnSync('unshare', [...unshareArgs, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1' },
  });
  if (r.error) {
    process.stderr.write(`flockguard tests: cannot create a private network namespace: ${r.error.message}\n`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}
