// The main command's program (scripts/demo.sh runs dist/scripts/demo/demo.js after set-up): run once
// without a TTY, its table must say the listed client reached every service, the unlisted one was
// blocked everywhere but at the ssh failsafe, and the input/forward control blocked nothing; the
// "why" column must name the deciding policy. It must leave no namespace behind, also on Ctrl-C.
// The example policies it applies must stay valid.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI_ENTRY } from '../../scripts/demo/flock';
import { runSync } from '../../scripts/lab/process';
import { repoRoot } from './flock-fixtures';

const DEMO = join(__dirname, '..', '..', 'scripts', 'demo', 'demo.js');

interface DemoRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the demo with pipes (no TTY); `interruptOn` sends SIGINT once stdout contains it. */
function runDemo(args: string[], interruptOn?: string): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString('utf8');
      if (interruptOn && !interrupted && stdout.includes(interruptOn)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The lab id from "in namespace fglab-<id>-node". */
function labId(stdout: string): string {
  const m = /namespace fglab-([a-z0-9]+)-node/.exec(stdout);
  assert.ok(m, `the demo names its node namespace:\n${stdout}`);
  return m[1];
}

function namespacesOf(id: string): string[] {
  return runSync(['ip', 'netns', 'list']).stdout.split('\n').filter((l) => l.startsWith(`fglab-${id}-`));
}

interface TableRow {
  client: string;
  service: string;
  control: string;
  flockguard: string;
  why: string;
}

function tableRows(stdout: string): TableRow[] {
  return stdout
    .split('\n')
    .filter((l) => /^ {2}\d+\.\d+\.\d+\.\d+ (listed|unlisted) {2}/.test(l))
    .map((l) => {
      const [client, service, control, flockguard, why] = l.trim().split(/ {2,}/);
      return { client, service, control, flockguard, why };
    });
}

describe('flockguard examples', function () {
  it('every policy file under examples/ passes flockguard validate', function () {
    const r = runSync([process.execPath, CLI_ENTRY, 'validate', '-f', join(repoRoot(), 'examples')]);
    assert.equal(r.code, 0, `flockguard validate -f examples/:\n${r.stdout}${r.stderr}`);
  });
});

describe('flockguard demo @kernel: the main command', function () {
  it('prints who reached which service and why, then removes the lab', async function () {
    this.timeout(120_000);
    const r = await runDemo([]);
    assert.equal(r.code, 0, `demo failed:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour codes without a TTY');
    const rows = tableRows(r.stdout);
    assert.equal(rows.length, 14, `two clients × seven services:\n${r.stdout}`);
    for (const row of rows) {
      const listed = row.client.endsWith(' listed');
      const ssh = row.service.startsWith('ssh');
      const what = `${row.client} → ${row.service}`;
      assert.match(row.control, /^reached/, `${what}: the input/forward filter blocks nothing`);
      if (listed || ssh) {
        assert.equal(row.flockguard, ssh ? 'reached node' : 'reached pod', what);
      } else {
        assert.equal(row.flockguard, 'blocked', what);
      }
      const why = ssh ? /^failsafe tcp:22$/ : listed ? /^allow-service-clients rule \d \(Allow\)$/ : /^deny-everything-else rule 0 \(Deny\)$/;
      assert.match(row.why, why, what);
    }
    assert.deepEqual(namespacesOf(labId(r.stdout)), [], 'the lab is gone');
  });

  it('tears the lab down on Ctrl-C', async function () {
    this.timeout(60_000);
    const r = await runDemo([], 'control:');
    assert.equal(r.code, 130, `exit status after SIGINT:\n${r.stdout}\n${r.stderr}`);
    assert.deepEqual(namespacesOf(labId(r.stdout)), [], 'the lab is gone after Ctrl-C');
  });
});
