// Where the time of a missed target goes: runs the agent and the CLI under `node --cpu-prof` for one
// size (full apply, a one-prefix re-push, netset add/remove, a drift repair) in a private network
// namespace, and prints self time by area (src/<layer>, node_modules/<package>, GC, idle, Node's
// own module loading) for each process. The .cpuprofile files stay in --dir for Chrome DevTools.
//
//   node <build>/scripts/bench/profile.js [--prefixes 100000] [--dir bench-results/profile]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_NAME, SET_NAME, policyText } from './fixtures';
import { AgentProcess, nft, runTimed, cliPath } from './proc';

const MARK = 'FLOCKGUARD_BENCH_NETNS';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** src/reconciler, node_modules/js-yaml, (garbage collector), node: internals... */
function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod) return `node_modules/${mod[1]}`;
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:internal/modules') || url.startsWith('node:internal/bootstrap')) return 'node: module loading';
  if (url.startsWith('node:')) return 'node: other';
  return url;
}

export function summarise(file: string, top = 14): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const cf = byId.get(id)!.callFrame;
    const area = areaOf(cf.url, cf.functionName);
    areas.set(area, (areas.get(area) ?? 0) + dt);
    if (area !== '(idle)') {
      const k = `${cf.functionName || '(anonymous)'} ${area}`;
      fns.set(k, (fns.get(k) ?? 0) + dt);
    }
  });
  const list = (m: Map<string, number>): string =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => `  ${ms.toFixed(0).padStart(7)} ms  ${k}`).join('\n');
  return `${file}: ${total.toFixed(0)} ms sampled\n by area:\n${list(areas)}\n by function (self):\n${list(fns)}\n`;
}

async function inner(prefixes: number, dir: string): Promise<void> {
  mkdirSync(join(dir, 'agent'), { recursive: true });
  mkdirSync(join(dir, 'cli'), { recursive: true });
  const policy = join(dir, 'policy.json');
  const changed = join(dir, 'policy-changed.json');
  writeFileSync(policy, policyText({ prefixes, rules: 1000 }));
  writeFileSync(changed, policyText({ prefixes, rules: 1000, changed: true }));
  const agent = await AgentProcess.start(dir, { nodeName: NODE_NAME, cpuProfileDir: join(dir, 'agent') });
  const cli = (step: string, args: string[]): void => {
    const stepDir = join(dir, 'cli', step);
    const t = runTimed([process.execPath, '--cpu-prof', `--cpu-prof-dir=${stepDir}`, cliPath(), ...args, '--socket', agent.socket], { timeoutMs: 600_000 });
    process.stdout.write(`${step}: ${t.ms.toFixed(0)} ms\n`);
  };
  try {
    cli('apply', ['apply', '-f', policy]);
    cli('repush', ['apply', '-f', changed]);
    cli('netset-add', ['netset', 'add', SET_NAME, '198.18.2.0/24']);
    cli('netset-remove', ['netset', 'remove', SET_NAME, '198.18.2.0/24']);
    nft(['delete', 'table', 'inet', 'flockguard']);
    await new Promise((r) => setTimeout(r, prefixes >= 500_000 ? 60_000 : 5_000));
  } finally {
    await agent.stop();
  }
  for (const step of readdirSync(join(dir, 'cli'))) {
    for (const f of readdirSync(join(dir, 'cli', step))) process.stdout.write(`\n== CLI ${step}\n${summarise(join(dir, 'cli', step, f), 8)}`);
  }
  for (const f of readdirSync(join(dir, 'agent'))) process.stdout.write(`\n== agent (whole run: start, apply, re-push, netset add/remove, drift repair)\n${summarise(join(dir, 'agent', f), 30)}`);
}

if (require.main === module) {
  const { values } = parseArgs({ options: { prefixes: { type: 'string', default: '100000' }, dir: { type: 'string', default: 'bench-results/profile' } } });
  if (process.env[MARK] !== '1') {
    const r = spawnSync('unshare', ['-n', process.execPath, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, [MARK]: '1' } });
    process.exit(r.status ?? 1);
  }
  spawnSync('ip', ['link', 'set', 'lo', 'up']);
  inner(Number(values.prefixes), resolve(values.dir!)).catch((err: Error) => {
    process.stderr.write(`bench profile: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
