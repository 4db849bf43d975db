// Offline commands: validate (no agent), usage errors, help and version.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../api/helpers';
import { ADMINS, ALLOW_WEB, HEP, runCli, writeFiles } from './helpers';

describe('cli: validate (offline)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('validate');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 for valid files, reading directories recursively', async () => {
    writeFiles(dir, { 'a.yaml': ALLOW_WEB, 'nested/deeper/b.yml': `${ADMINS}---\n${HEP}`, 'notes.txt': 'not policy' });
    const r = await runCli(['validate', '-f', dir], { env: { FLOCKGUARD_SOCKET: '/nonexistent.sock' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '3 resources valid in 2 files\n');
  });

  it('exits 1 and prints every error of every file with file:line', async () => {
    writeFiles(dir, {
      'a.yaml': ALLOW_WEB.replace('443', '70000'),
      'b.yaml': ADMINS.replace('10.0.0.0/8', '10.0.0.0/33'),
    });
    const r = await runCli(['validate', '-f', path.join(dir, 'a.yaml'), '-f', path.join(dir, 'b.yaml')]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    assert.match(lines[0], new RegExp(`^${path.join(dir, 'a.yaml')}:15:\\d+: GlobalNetworkPolicy/allow-web: spec.ingress\\[0\\].destination.ports\\[1\\]: .*\\[POLICY_BAD_PORT\\]$`));
    assert.match(lines[1], new RegExp(`^${path.join(dir, 'b.yaml')}:9:\\d+: GlobalNetworkSet/admins: spec.nets\\[0\\]: .*\\[POLICY_BAD_CIDR\\]$`));
    assert.match(lines[2], /^flockguard: 2 errors in the policy files; the files are not valid\. Fix them/);
  });

  it('reports the same object defined in two files', async () => {
    writeFiles(dir, { 'a.yaml': ADMINS, 'b.yaml': ADMINS });
    const r = await runCli(['validate', '-f', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /b\.yaml: GlobalNetworkSet\/admins: metadata\.name: defined again \(first in .*a\.yaml\).*\[POLICY_DUPLICATE\]/);
  });

  it('reads stdin for -f -', async () => {
    const r = await runCli(['validate', '-f', '-'], { stdin: HEP });
    assert.equal(r.code, 0, r.stderr);
    const bad = await runCli(['validate', '-f', '-'], { stdin: 'kind: [' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^-:\d+:\d+: .*\[POLICY_SYNTAX\]/m);
  });

  it('--skip-unsupported turns unsupported kinds into warnings', async () => {
    const profile = 'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: p}\nspec: {}\n';
    writeFiles(dir, { 'a.yaml': `${ADMINS}---\n${profile}` });
    const strict = await runCli(['validate', '-f', dir]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /POLICY_UNSUPPORTED_KIND/);
    assert.match(strict.stderr, /--skip-unsupported drops unsupported kinds/);
    const lenient = await runCli(['validate', '-f', dir, '--skip-unsupported']);
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(lenient.stderr, /^warning: skipped: .*POLICY_UNSUPPORTED_KIND/m);
    assert.equal(lenient.stdout, '1 resource valid in 1 file\n');
  });

  it('a missing file or an empty directory exits 1 and names the path', async () => {
    const missing = await runCli(['validate', '-f', path.join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.yaml \(ENOENT\): check the path given to -f/);
    const empty = await runCli(['validate', '-f', dir]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /holds no \.yaml, \.yml or \.json files/);
  });
});

describe('cli: usage errors exit 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /usage: flockguard COMMAND/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['validate'], /validate: -f FILE\|DIR\|- is required/],
    [['apply', '--bogus'], /apply: Unknown option '--bogus'/],
    [['get'], /get: give a KIND/],
    [['get', 'pods'], /get: unknown kind "pods"; use one of: globalnetworkpolicy \(gnp\)/],
    [['get', 'gnp', '-o', 'xml'], /get: -o xml is not supported; use one of: yaml, json, wide, name/],
    [['delete', 'gnp'], /delete: give KIND and at least one NAME/],
    [['netset', 'add', 'admins', 'not-a-cidr'], /netset: "not-a-cidr" is not a CIDR/],
    [['netset', 'frob', 'x', '10.0.0.0/8'], /netset: say add or remove/],
    [['explain', '--src', '1.2.3.4'], /explain: --iif is required/],
    [['explain', '--iif', 'eth0', '--src', '1.2.3', '--dst', '192.0.2.1', '--proto', 'tcp'], /--src "1.2.3" is not an IP address/],
    [['explain', '--iif', 'eth0', '--src', '1.2.3.4', '--dst', '192.0.2.1', '--proto', 'tcp', '--dport', '70000'], /--dport "70000" must be a whole number from 1 to 65535/],
    [['trace', '--timeout', 'soon'], /--timeout "soon" is not a duration; write e\.g\. 30s/],
    [['rollback', '--to', 'last'], /--to "last" must be a whole number/],
    [['agent', '--log-level', 'loud'], /agent: --log-level "loud" must be one of error, warn, info, debug/],
  ];
  for (const [argv, message] of cases) {
    it(`flockguard ${argv.join(' ') || '(nothing)'}`, async () => {
      const r = await runCli(argv, { env: { FLOCKGUARD_SOCKET: '/nonexistent.sock' } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }
});

describe('cli: help and version', () => {
  it('help lists every command; help CMD and CMD --help show its usage', async () => {
    const overview = await runCli(['help']);
    assert.equal(overview.code, 0);
    for (const name of ['apply', 'delete', 'get', 'diff', 'validate', 'status', 'history', 'rollback', 'netset', 'explain', 'counters', 'trace', 'monitor', 'doctor', 'uninstall', 'version', 'agent']) {
      assert.match(overview.stdout, new RegExp(`^  ${name} `, 'm'));
    }
    const apply = await runCli(['apply', '--help']);
    assert.equal(apply.code, 0);
    assert.match(apply.stdout, /--detailed-exitcode exit 0 when nothing changed, 2 when something did, 1 on error/);
    assert.equal((await runCli(['help', 'diff'])).stdout, (await runCli(['diff', '-h'])).stdout);
  });

  it('version prints the package version', async () => {
    const r = await runCli(['version', '-o', 'json']);
    assert.equal(r.code, 0);
    const pkg = JSON.parse(readFileSync(path.join(process.cwd(), 'package.json'), 'utf8')) as { version: string };
    assert.equal(JSON.parse(r.stdout).version, pkg.version);
    assert.equal((await runCli(['version'])).stdout.split(' ')[1], pkg.version);
  });
});
