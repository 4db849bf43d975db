// The lab always cleans up: destroy(), a failing create, a creator ended by SIGTERM, and, for a
// creator killed with SIGKILL, scripts/lab/cleanup.sh, which must spare labs whose creator lives.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as readline from 'node:readline';
import { Lab } from '../../scripts/lab/lab';
import { ownerFile, removeOwner, writeOwner } from '../../scripts/lab/owner';

const LAB_JS = join(__dirname, '..', '..', 'scripts', 'lab', 'lab.js');

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'scripts', 'lab', 'cleanup.sh'))) {
    assert.notEqual(dirname(dir), dir, 'scripts/lab/cleanup.sh not found');
    dir = dirname(dir);
  }
  return dir;
}

function listNamespaces(): string[] {
  // stderr piped: ip complains about namespaces another run deletes meanwhile.
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: 'pipe' })
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter(Boolean);
}

function pidsIn(ns: string): number[] {
  return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: 'pipe' }).split(/\s+/).filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A separate node process that creates a lab, reports its namespaces, and then idles. */
class Creator {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** then: JavaScript run once the lab is up and reported (default: idle until killed). */
  constructor(then = 'setInterval(() => {}, 1000);') {
    const script = `
      const { Lab } = require(${JSON.stringify(LAB_JS)});
      Lab.create({ kubeProxyMode: 'nftables', ipv6: false }).then(
        (lab) => { process.stdout.write(JSON.stringify({ id: lab.id, namespaces: lab.namespaces }) + '\\n', () => { ${then} }); },
        (err) => { process.stderr.write(String(err) + '\\n'); process.exit(1); });`;
    this.child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    // 'close' comes after the child's stdout is drained, so ready() sees the line of a creator that exits at once.
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  ready(): Promise<{ id: string; namespaces: string[] }> {
    return new Promise((resolve, reject) => {
      readline.createInterface({ input: this.child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
      this.exited.then(({ code }) => reject(new Error(`creator exited early with ${code}`)));
    });
  }
}

describe('lab @kernel: cleanup', () => {
  const leftovers: string[] = [];

  afterEach(() => {
    // Whatever a test left (also the foreign namespace and its record): remove it.
    removeOwner(`t${process.pid}`.slice(0, 12));
    for (const ns of leftovers.splice(0)) {
      if (!listNamespaces().includes(ns)) continue;
      for (const pid of pidsIn(ns)) process.kill(pid, 'SIGKILL');
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });

  it('destroy() kills the agents and deletes every namespace and the owner record', async () => {
    const lab = await Lab.create({ kubeProxyMode: 'iptables', ipv6: false });
    leftovers.push(...lab.namespaces);
    const agents = [lab.node.ns, lab.pod.ns, lab.clients.allowed.ns].flatMap(pidsIn);
    assert.ok(agents.length >= 3, 'agents run in the lab');
    assert.ok(existsSync(ownerFile(lab.id)));
    await lab.destroy();
    const now = listNamespaces();
    assert.deepEqual(lab.namespaces.filter((ns) => now.includes(ns)), []);
    assert.deepEqual(agents.filter(alive), []);
    assert.equal(existsSync(ownerFile(lab.id)), false);
    await assert.rejects(lab.connect(lab.clients.allowed, lab.node.eth0v4, 22), { code: 'LAB_DESTROYED' });
  });

  it('a process started with spawn() runs in the lab namespace and ends with destroy()', async () => {
    const lab = await Lab.create({ kubeProxyMode: 'nftables', ipv6: false });
    leftovers.push(...lab.namespaces);
    const child = lab.spawn(lab.node, ['sleep', '600'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    assert.ok(child.pid);
    await waitUntil('sleep runs in the node namespace', () => pidsIn(lab.node.ns).includes(child.pid ?? -1));
    await lab.destroy();
    assert.equal(await exited, 'SIGTERM');
  });

  it('a failing create removes what it made and leaves a namespace it did not make', async () => {
    const id = `t${process.pid}`.slice(0, 12);
    const foreign = `fglab-${id}-denied`;
    execFileSync('ip', ['netns', 'add', foreign]);
    leftovers.push(foreign, ...['lan', 'node', 'pod', 'allowed'].map((r) => `fglab-${id}-${r}`));
    await assert.rejects(Lab.create({ kubeProxyMode: 'nftables', ipv6: true, id }), { code: 'LAB_NAMESPACE_EXISTS' });
    // Owned by this run again (the failed create removed its record), so a concurrent run's
    // cleanup.sh leaves the foreign namespace alone until afterEach removes it.
    writeOwner(id);
    const now = listNamespaces();
    assert.deepEqual(
      now.filter((ns) => ns.startsWith(`fglab-${id}-`)),
      [foreign],
    );
  });

  it('refuses the id of a running lab, and leaves that lab alone', async () => {
    const first = await Lab.create({ kubeProxyMode: 'nftables', ipv6: false });
    leftovers.push(...first.namespaces);
    try {
      await assert.rejects(Lab.create({ kubeProxyMode: 'iptables', ipv6: false, id: first.id }), { code: 'LAB_ID_IN_USE' });
      assert.ok(existsSync(ownerFile(first.id)), 'the running lab keeps its owner record');
      const r = await first.connect(first.clients.allowed, first.node.eth0v4, first.service.nodePort);
      assert.ok(r.ok, r.detail);
    } finally {
      await first.destroy();
    }
  });

  it('rejects a bad id before creating anything', async () => {
    const before = listNamespaces();
    await assert.rejects(Lab.create({ kubeProxyMode: 'nftables', ipv6: false, id: 'Not-OK' }), { code: 'LAB_BAD_OPTION' });
    assert.deepEqual(listNamespaces(), before);
  });

  it('SIGTERM to the creating process removes its lab', async () => {
    const creator = new Creator();
    const { namespaces } = await creator.ready();
    leftovers.push(...namespaces);
    assert.ok(namespaces.every((ns) => listNamespaces().includes(ns)));
    creator.child.kill('SIGTERM');
    const { signal } = await creator.exited;
    assert.equal(signal, 'SIGTERM', 'the creator still ends by the signal');
    const now = listNamespaces();
    assert.deepEqual(namespaces.filter((ns) => now.includes(ns)), []);
  });

  for (const [how, then] of [
    ['process.exit()', 'process.exit(3);'],
    ['an uncaught exception', 'setTimeout(() => { throw new Error("boom"); }, 10);'],
  ]) {
    it(`ending the creating process by ${how} removes its lab`, async () => {
      const creator = new Creator(then);
      const { namespaces } = await creator.ready();
      leftovers.push(...namespaces);
      const { code } = await creator.exited;
      assert.notEqual(code, 0, 'the creator keeps its failing status');
      const now = listNamespaces();
      assert.deepEqual(namespaces.filter((ns) => now.includes(ns)), []);
    });
  }

  it('after SIGKILL, cleanup.sh removes the orphaned lab and spares a live one', async () => {
    const live = await Lab.create({ kubeProxyMode: 'nftables', ipv6: false });
    leftovers.push(...live.namespaces);
    try {
      const creator = new Creator();
      const { namespaces } = await creator.ready();
      leftovers.push(...namespaces);
      const agents = namespaces.flatMap(pidsIn);
      creator.child.kill('SIGKILL');
      await creator.exited;
      // Nothing could run in the killed process: the namespaces are still there...
      assert.ok(namespaces.every((ns) => listNamespaces().includes(ns)));
      // ...but the agents notice their stdin closing and exit on their own.
      await waitUntil('the orphaned agents exit', () => agents.every((pid) => !alive(pid)));
      execFileSync('bash', [join(repoRoot(), 'scripts', 'lab', 'cleanup.sh')], { encoding: 'utf8', stdio: 'pipe' });
      const now = listNamespaces();
      assert.deepEqual(namespaces.filter((ns) => now.includes(ns)), [], 'orphaned lab removed');
      assert.ok(live.namespaces.every((ns) => now.includes(ns)), 'live lab spared');
      const r = await live.connect(live.clients.allowed, live.node.eth0v4, live.service.nodePort);
      assert.ok(r.ok, r.detail);
    } finally {
      await live.destroy();
    }
  });
});
