// Benchmark (not a test: run `node dist/scripts/bench-store.js [nets...]`): the cost of history
// in the revision store. For each size, 20 revisions of one GlobalNetworkSet, each changing one
// prefix; prints the database size against 20 full copies, commit times and current() load time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../src/store';
import { databaseFileBytes, networkSet, policy, prefixes } from '../test/store/helpers';

const REVISIONS = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = process.hrtime.bigint();
  const value = fn();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

function bench(size: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'flockguard-bench-store-'));
  try {
    const path = join(dir, 'state.db');
    const store = Store.open(path);
    const nets = prefixes(size);
    const first = timed(() => store.commit({ resources: [networkSet('big', nets), policy('web')], source: 'bench' }));
    const firstBytes = databaseFileBytes(path);
    const commits: number[] = [];
    for (let r = 2; r <= REVISIONS; r++) {
      nets[(r * 7919) % size] = `192.0.${r}.0/24`;
      commits.push(timed(() => store.commit({ resources: [networkSet('big', nets), policy('web')], source: 'bench' })).ms);
    }
    const totalBytes = databaseFileBytes(path);
    const loads = Array.from({ length: 5 }, () => timed(() => store.current()).ms);
    const rollback = timed(() => store.rollback(1, { source: 'bench' })).ms;
    const history = timed(() => store.history()).ms;
    store.close();
    const mb = (b: number) => (b / 1e6).toFixed(2);
    console.log(
      [
        `${size.toLocaleString('en')} nets, ${REVISIONS} revisions each changing one prefix:`,
        `  database ${mb(totalBytes)} MB (first revision alone ${mb(firstBytes)} MB; ${REVISIONS} full copies would be ~${mb(firstBytes * REVISIONS)} MB)`,
        `  growth per one-prefix revision ${((totalBytes - firstBytes) / (REVISIONS - 1) / 1e3).toFixed(1)} kB`,
        `  first commit ${first.ms.toFixed(0)} ms; one-prefix commit median ${median(commits).toFixed(0)} ms (min ${Math.min(...commits).toFixed(0)}, max ${Math.max(...commits).toFixed(0)})`,
        `  current() load median ${median(loads).toFixed(0)} ms; rollback ${rollback.toFixed(0)} ms (includes loading the result); history() ${history.toFixed(2)} ms`,
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = process.argv.slice(2).map(Number);
for (const size of sizes.length > 0 ? sizes : [100_000, 1_000_000]) bench(size);
