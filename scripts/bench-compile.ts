// Benchmark (not a test): compile time for a GlobalNetworkSet of N nets selected by one rule.
// Run (after the build): node dist/scripts/bench-compile.js [100000 1000000]
import { compile } from '../src/compiler';
import { gnp, gns, hep } from '../test/compiler/fixtures';

/** n distinct, non-adjacent-by-design nets spread over the IPv4 space: half /24, half /32. */
function spreadNets(n: number): string[] {
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    // An odd multiplier is a bijection modulo 2^24: distinct /24 blocks, scattered.
    const block = Math.imul(i, 2654435761) & 0xffffff;
    const a = block * 256 + (i % 2 ? 1 + (i % 250) : 0);
    out[i] = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${i % 2 ? 32 : 24}`;
  }
  return out;
}

for (const n of process.argv.slice(2).map(Number)) {
  const nets = spreadNets(n);
  const resources = [
    hep('eth0', { interfaceName: 'eth0', expectedIPs: ['10.0.0.1'] }, { host: 'a' }),
    gns('big', nets, { big: 'yes' }),
    gnp('deny-big', {}, [{ action: 'Deny', source: { selector: "big == 'yes'" } }]),
  ];
  const times: number[] = [];
  let elements = 0;
  for (let run = 0; run < 3; run++) {
    const t0 = process.hrtime.bigint();
    const rs = compile(resources, 'node1');
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    elements = rs.sets.reduce((sum, s) => sum + (s.elements?.length ?? 0), 0);
  }
  times.sort((a, b) => a - b);
  const rss = process.memoryUsage().rss / 2 ** 20;
  console.log(`${n} nets: median ${times[1].toFixed(0)} ms (runs ${times.map((t) => t.toFixed(0)).join(', ')}), ${elements} elements, rss ${rss.toFixed(0)} MiB`);
}
