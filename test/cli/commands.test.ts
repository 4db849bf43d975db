// The CLI against a fake agent on a temp socket: output shapes, exit codes, the get -> apply round
// trip, and that invalid input never reaches the agent.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ServiceError } from '../../src/api/service';
import { startFakeAgent, type RunningAgent } from '../api/helpers';
import { flushRuleset, nftLoad } from '../support/kernel';
import { ADMINS, ALLOW_WEB, HEP, runCli, writeFiles, type RunOptions } from './helpers';

describe('cli: commands against the agent', () => {
  let running: RunningAgent;
  let cli: (argv: string[], options?: RunOptions) => ReturnType<typeof runCli>;
  let file: (name: string, text: string) => string;

  beforeEach(async () => {
    running = await startFakeAgent();
    cli = (argv, options = {}) => runCli(argv, { ...options, env: { FLOCKGUARD_SOCKET: running.socketPath, ...options.env } });
    file = (name, text) => {
      writeFiles(running.dir, { [name]: text });
      return path.join(running.dir, name);
    };
  });

  afterEach(async () => {
    await running.stop();
  });

  describe('apply', () => {
    it('prints kubectl-style lines: created, then unchanged, then configured', async () => {
      const f = file('p/all.yaml', `${ALLOW_WEB}---\n${ADMINS}`);
      const first = await cli(['apply', '-f', f]);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, 'globalnetworkpolicy.projectcalico.org/allow-web created\nglobalnetworkset.projectcalico.org/admins created\n');
      const second = await cli(['apply', '-f', f]);
      assert.equal(second.stdout, 'globalnetworkpolicy.projectcalico.org/allow-web unchanged\nglobalnetworkset.projectcalico.org/admins unchanged\n');
      const edited = file('p/all.yaml', `${ALLOW_WEB.replace('443', '8443')}---\n${ADMINS}`);
      const third = await cli(['apply', '-f', edited]);
      assert.equal(third.stdout, 'globalnetworkpolicy.projectcalico.org/allow-web configured\nglobalnetworkset.projectcalico.org/admins unchanged\n');
    });

    it('--detailed-exitcode: 2 when something changed, 0 when nothing did, 1 on error', async () => {
      const f = file('a.yaml', ADMINS);
      assert.equal((await cli(['apply', '-f', f, '--detailed-exitcode'])).code, 2);
      assert.equal((await cli(['apply', '-f', f, '--detailed-exitcode'])).code, 0);
      const bad = file('bad.yaml', ADMINS.replace('10.0.0.0/8', '300.0.0.0/8'));
      assert.equal((await cli(['apply', '-f', bad, '--detailed-exitcode'])).code, 1);
      running.agent.failNext = Object.assign(new Error('NEWRULE: Invalid argument'), { code: 'NFT_KERNEL_ERROR' }) as unknown as ServiceError;
      const kernel = await cli(['apply', '-f', file('b.yaml', ALLOW_WEB), '--detailed-exitcode']);
      assert.equal(kernel.code, 1);
      assert.match(kernel.stderr, /NEWRULE: Invalid argument; nothing was changed\. See journalctl -u flockguard/);
    });

    it('-o json has top-level changed and comment and per-object actions', async () => {
      const f = file('a.yaml', `${ADMINS}---\n${HEP}`);
      const r = await cli(['apply', '-f', f, '-o', 'json']);
      assert.equal(r.code, 0);
      const report = JSON.parse(r.stdout);
      assert.equal(report.changed, true);
      assert.equal(typeof report.comment, 'string');
      assert.match(report.comment, /2 created; revision 1 is current and the kernel holds it/);
      assert.deepEqual(report.objects.map((o: { ref: string; action: string }) => `${o.ref} ${o.action}`), [
        'globalnetworkset.projectcalico.org/admins created',
        'hostendpoint.projectcalico.org/node-a-eth0 created',
      ]);
      const again = JSON.parse((await cli(['apply', '-f', f, '-o', 'json'])).stdout);
      assert.equal(again.changed, false);
      assert.match(again.comment, /revision 1 stays current/);
    });

    it('--dry-run reports the actions and changes nothing', async () => {
      const r = await cli(['apply', '-f', file('a.yaml', ADMINS), '--dry-run', '--detailed-exitcode']);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, 'globalnetworkset.projectcalico.org/admins created (dry run)\n');
      assert.equal(running.agent.revision, 0);
      assert.equal(running.agent.resources.size, 0);
    });

    it('invalid files: every error printed, exit 1, the agent never contacted', async () => {
      const dir = path.join(running.dir, 'policy');
      writeFiles(dir, { 'a.yaml': ALLOW_WEB.replace('TCP', 'TCPX'), 'sub/b.yaml': ADMINS.replace('10.0.0.0/8', 'ten') });
      const r = await cli(['apply', '-f', dir, '-o', 'json']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /a\.yaml:\d+:\d+: GlobalNetworkPolicy\/allow-web: spec\.ingress\[0\]\.protocol: .*\[POLICY_BAD_PROTOCOL\]/);
      assert.match(r.stderr, /sub\/b\.yaml:\d+:\d+: GlobalNetworkSet\/admins: spec\.nets\[0\]: .*\[POLICY_BAD_CIDR\]/);
      assert.match(r.stderr, /2 errors in the policy files; nothing was applied/);
      assert.equal(JSON.parse(r.stdout).changed, false);
      assert.equal(running.agent.peers.length, 0);
    });

    it('reads stdin and sends the documents with their file names, peer claimed', async () => {
      const r = await cli(['apply', '-f', '-'], { stdin: HEP });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hostendpoint.projectcalico.org/node-a-eth0 created\n');
      assert.equal(running.agent.peers[0].pid, process.pid);
      assert.equal(running.agent.revisions[0].actor?.uid, process.getuid?.());
    });

    it('agent policy errors print their issues', async () => {
      running.agent.failNext = new ServiceError('POLICY_INVALID', '1 problem(s) in the documents, nothing was applied', {
        issues: [{ object: 'HostEndpoint/h', field: 'spec.node', value: 'x', message: 'names another node', code: 'POLICY_OTHER_NODE', position: { file: 'h.yaml', line: 4 } }],
      });
      const r = await cli(['apply', '-f', file('h.yaml', HEP)]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'h.yaml:4: HostEndpoint/h: spec.node: names another node [POLICY_OTHER_NODE]\nflockguard: 1 problem(s) in the documents, nothing was applied\n');
    });

    it('adds no hint when the agent message already says what to do', async () => {
      running.agent.failNext = new ServiceError('NOT_FOUND', 'revision 9 does not exist; see `flockguard history`', { status: 'NOT_FOUND' });
      const r = await cli(['apply', '-f', file('a.yaml', ADMINS)]);
      assert.equal(r.stderr, 'flockguard: revision 9 does not exist; see `flockguard history`\n');
    });

    it('an unreachable agent exits 1 and says what to do', async () => {
      const r = await runCli(['apply', '-f', file('a.yaml', ADMINS), '--socket', path.join(running.dir, 'none.sock')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^flockguard: cannot reach the agent at .*none\.sock \(ENOENT\): is it running\? \(systemctl status flockguard/);
    });
  });

  describe('get', () => {
    beforeEach(async () => {
      assert.equal((await cli(['apply', '-f', file('all.yaml', `${ALLOW_WEB}---\n${ADMINS}---\n${HEP}`)])).code, 0);
    });

    it('-o yaml output applies back unchanged and validates', async () => {
      for (const argv of [['get', 'gnp', '-o', 'yaml'], ['get', 'all', '-o', 'yaml'], ['get', 'hostendpoints', 'node-a-eth0', '-o', 'yaml']]) {
        const got = await cli(argv);
        assert.equal(got.code, 0, got.stderr);
        assert.equal((await cli(['validate', '-f', '-'], { stdin: got.stdout })).code, 0);
        const back = await cli(['apply', '-f', '-', '--detailed-exitcode'], { stdin: got.stdout });
        assert.equal(back.code, 0, `${argv.join(' ')}: ${back.stdout}${back.stderr}`);
        assert.ok(back.stdout.length > 0 && !/created|configured/.test(back.stdout));
      }
      assert.equal(running.agent.revision, 1);
    });

    it('-o json output (one object, or a List) applies back unchanged', async () => {
      const one = await cli(['get', 'gns', 'admins', '-o', 'json']);
      assert.equal(JSON.parse(one.stdout).kind, 'GlobalNetworkSet');
      const list = await cli(['get', 'all', '-o', 'json']);
      assert.equal(JSON.parse(list.stdout).items.length, 3);
      for (const out of [one.stdout, list.stdout]) {
        const back = await cli(['apply', '-f', '-', '--detailed-exitcode'], { stdin: out });
        assert.equal(back.code, 0, back.stderr);
      }
    });

    it('a table by default, more columns with -o wide, names with -o name', async () => {
      assert.equal((await cli(['get', 'gnp'])).stdout, 'NAME        ORDER   SELECTOR\nallow-web   10      has(host-endpoint)\n');
      assert.equal(
        (await cli(['get', 'hep', '-o', 'wide'])).stdout,
        'NAME          NODE     INTERFACE   EXPECTEDIPS   PROFILES\nnode-a-eth0   node-a   eth0        192.0.2.10\n',
      );
      assert.equal(
        (await cli(['get', 'all', '-o', 'name'])).stdout,
        'globalnetworkpolicy.projectcalico.org/allow-web\nglobalnetworkset.projectcalico.org/admins\nhostendpoint.projectcalico.org/node-a-eth0\n',
      );
    });

    it('a missing name exits 1 with how to list what exists', async () => {
      const r = await cli(['get', 'globalnetworkpolicy', 'nope']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /"nope" does not exist \(flockguard get KIND lists what exists\)/);
    });
  });

  describe('diff', () => {
    it('exits 0 when equal, 1 with a unified diff when not, 2 on error', async () => {
      const f = file('a.yaml', ALLOW_WEB);
      const fresh = await cli(['diff', '-f', f]);
      assert.equal(fresh.code, 1);
      assert.match(fresh.stdout, /^--- \/dev\/null\n\+\+\+ merged\/globalnetworkpolicy\.projectcalico\.org\/allow-web\n@@ -0,0 \+1,\d+ @@\n\+apiVersion: projectcalico\.org\/v3\n/);

      await cli(['apply', '-f', f]);
      const same = await cli(['diff', '-f', f]);
      assert.equal(same.code, 0);
      assert.equal(same.stdout, '');

      const changed = await cli(['diff', '-f', file('a.yaml', ALLOW_WEB.replace('443', '8443'))]);
      assert.equal(changed.code, 1);
      assert.match(changed.stdout, /^--- live\/globalnetworkpolicy\.projectcalico\.org\/allow-web\n\+\+\+ merged\/globalnetworkpolicy\.projectcalico\.org\/allow-web\n@@ /);
      assert.match(changed.stdout, /\n-\s+- 443\n\+\s+- 8443\n/);

      const quiet = await cli(['diff', '-f', path.join(running.dir, 'a.yaml'), '--quiet']);
      assert.deepEqual([quiet.code, quiet.stdout], [1, '']);

      const invalid = await cli(['diff', '-f', file('bad.yaml', ADMINS.replace('10.0.0.0/8', 'ten'))]);
      assert.equal(invalid.code, 2);
      const unreachable = await runCli(['diff', '-f', f, '--socket', '/nonexistent.sock']);
      assert.equal(unreachable.code, 2);
      assert.match(unreachable.stderr, /cannot reach the agent/);
    });
  });

  describe('delete', () => {
    beforeEach(async () => {
      await cli(['apply', '-f', file('all.yaml', `${ALLOW_WEB}---\n${ADMINS}`)]);
    });

    it('by short kind name and by file', async () => {
      const byName = await cli(['delete', 'gnp', 'allow-web']);
      assert.equal(byName.code, 0, byName.stderr);
      assert.equal(byName.stdout, 'globalnetworkpolicy.projectcalico.org/allow-web deleted\n');
      const byFile = await cli(['delete', '-f', file('n.yaml', ADMINS)]);
      assert.equal(byFile.stdout, 'globalnetworkset.projectcalico.org/admins deleted\n');
      assert.equal(running.agent.resources.size, 0);
    });

    it('a missing object exits 1, unless --skip-not-exists', async () => {
      const missing = await cli(['delete', 'globalnetworksets', 'nope']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /GlobalNetworkSet "nope" does not exist/);
      assert.equal((await cli(['delete', 'gns', 'nope', '--skip-not-exists'])).code, 0);
    });
  });

  describe('status, history, rollback, netset', () => {
    it('status -o json has inSync; the human form names node, revision and repairs', async () => {
      await cli(['apply', '-f', file('a.yaml', ADMINS)]);
      const json = await cli(['status', '-o', 'json']);
      assert.equal(json.code, 0);
      const status = JSON.parse(json.stdout);
      assert.equal(status.inSync, true);
      assert.equal(status.revision, 1);
      const human = await cli(['status']);
      assert.match(human.stdout, /^agent: +running on node node-a \(flockguard 0\.1\.0\)$/m);
      assert.match(human.stdout, /^kernel: +in sync, generation 41$/m);
      assert.match(human.stdout, /^ +repaired: +2026-11-25T08:00:00\.000Z rule hep-eth0\/3 was deleted/m);
    });

    it('status exits 1 when the kernel is not in sync', async () => {
      const base = running.agent.status;
      running.agent.status = async () => ({ ...(await base()), inSync: false });
      const r = await cli(['status']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /NOT in sync/);
      assert.match(r.stderr, /the agent repairs this at its next resync/);
    });

    it('history lists revisions with the claimed caller; rollback --to restores one', async () => {
      await cli(['apply', '-f', file('a.yaml', ADMINS)]);
      await cli(['apply', '-f', file('b.yaml', ALLOW_WEB)]);
      const history = await cli(['history']);
      assert.equal(history.code, 0);
      const rows = history.stdout.trim().split('\n');
      assert.match(rows[0], /^REVISION +CREATED +SOURCE +BY +RESOURCES/);
      assert.match(rows[1], new RegExp(`^2 +\\S+ +apply +.*pid ${process.pid} \\(claimed\\) +2$`));
      const back = await cli(['rollback', '--to', '1']);
      assert.equal(back.code, 0, back.stderr);
      assert.match(back.stdout, /globalnetworkpolicy\.projectcalico\.org\/allow-web deleted/);
      assert.match(back.stderr, /rolled back to revision 1; now at revision 3/);
      const missing = await cli(['rollback', '--to', '42', '-o', 'json']);
      assert.equal(missing.code, 1);
      assert.equal(JSON.parse(missing.stdout).changed, false);
      assert.match(missing.stderr, /revision 42 does not exist \(flockguard history lists the revisions\)/);
    });

    it('netset add/remove edit the set', async () => {
      await cli(['apply', '-f', file('a.yaml', ADMINS)]);
      const add = await cli(['netset', 'add', 'admins', '192.0.2.0/24', '2001:db8::/32']);
      assert.equal(add.code, 0, add.stderr);
      assert.equal(add.stdout, 'globalnetworkset.projectcalico.org/admins configured\n');
      const again = await cli(['netset', 'add', 'admins', '192.0.2.0/24']);
      assert.equal(again.stdout, 'globalnetworkset.projectcalico.org/admins unchanged\n');
      await cli(['netset', 'remove', 'admins', '10.0.0.0/8']);
      const got = JSON.parse((await cli(['get', 'gns', 'admins', '-o', 'json'])).stdout);
      assert.deepEqual(got.spec.nets, ['192.0.2.0/24', '2001:db8::/32']);
    });
  });

  describe('doctor', () => {
    // doctor reads this run's private namespace over netlink (mocha runs in one of its own).
    afterEach(() => flushRuleset());

    it('passes against a healthy agent and node, listing the prerouting chains in kernel order', async () => {
      nftLoad(
        'table inet flockguard { chain prerouting { type filter hook prerouting priority -150; policy accept; }; }\n' +
          'table ip kube-proxy { chain nat-prerouting { type nat hook prerouting priority -100; policy accept; }; }\n',
      );
      const db = file('flockguard.db', '');
      const status = running.agent.status;
      running.agent.status = async () => ({ ...(await status()), dbPath: db });
      const config = file('config.yaml', 'priority: -150\n');
      const good = await cli(['doctor', '--config', config]);
      assert.equal(good.code, 0, good.stdout);
      assert.match(good.stdout, new RegExp(`^ok    config ${config} is valid$`, 'm'));
      assert.match(good.stdout, /^ok    socket: .* \(mode 0660\)$/m);
      assert.match(good.stdout, /^ok    sync: the kernel holds revision 0 \(generation 40\)$/m);
      assert.match(good.stdout, /-200 {2}\(conntrack\)\n +-150 {2}inet flockguard prerouting .*<- flockguard\n +-100 {2}ip kube-proxy nat-prerouting/);
    });

    it('fails, naming the fix, on a bad config, no agent and no table', async () => {
      const badConfig = file('bad.yaml', 'colour: blue\n');
      const bad = await cli(['doctor', '--config', badConfig, '--socket', path.join(running.dir, 'none.sock')]);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /^FAIL  config: .*unknown key "colour"/m);
      assert.match(bad.stdout, /^FAIL  .*none\.sock.*\n      -> start the agent: systemctl start flockguard/m);
      assert.match(bad.stdout, /^FAIL  table: table inet flockguard is absent/m);
    });
  });

  describe('explain, counters, trace, monitor', () => {
    it('explain prints the verdict path', async () => {
      const r = await cli(['explain', '--iif', 'eth0', '--src', '198.51.100.7', '--dst', '192.0.2.10', '--proto', 'TCP', '--dport', '8080']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        'packet: iif eth0 tcp 198.51.100.7 -> 192.0.2.10:8080\n' +
          '  1. prerouting: iifname "eth0" jump hep-eth0 -> jump hep-eth0\n' +
          '  2. hep-eth0: drop  [policy=deny-all rule=0 action=Deny] -> drop\n' +
          'verdict: drop (dropped by policy deny-all rule 0)\n',
      );
      const json = JSON.parse((await cli(['explain', '--iif', 'eth0', '--src', '198.51.100.7', '--dst', '192.0.2.10', '--proto', 'tcp', '--dport', '22', '-o', 'json'])).stdout);
      assert.equal(json.verdict, 'accept');
      assert.equal(json.packet.dport, 22);
    });

    it('counters for one policy, as a table and as JSON', async () => {
      const table = await cli(['counters', 'allow-web']);
      assert.equal(table.stdout.trim().split('\n').length, 2);
      assert.match(table.stdout, /^allow-web +0 +Allow +12 +3400 +hep-eth0/m);
      const json = JSON.parse((await cli(['counters', '-o', 'json'])).stdout);
      assert.equal(json.counters.length, 2);
    });

    it('counters --watch repeats until Ctrl-C', async () => {
      const interrupt = new AbortController();
      const r = await cli(['counters', '--watch', '--interval', '20ms', '-o', 'json'], {
        interrupt,
        onStdout: (text) => {
          if (text.split('\n').length > 3) interrupt.abort();
        },
      });
      assert.equal(r.code, 0);
      assert.ok(r.stdout.trim().split('\n').length >= 3);
    });

    it('trace ends at its timeout with exit 0', async () => {
      const r = await cli(['trace', '--dport', '8080', '--timeout', '150ms']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\S+ t0 hep-eth0: tcp dport 8080 drop comment "policy=deny-all rule=0 action=Deny" \(verdict drop\)$/m);
      assert.match(r.stderr, /^trace ended: \d+ lines\n$/);
    });

    it('trace stops cleanly on Ctrl-C and the agent sees the cancellation', async () => {
      const interrupt = new AbortController();
      const r = await cli(['trace', '--timeout', '2m', '-o', 'json'], {
        interrupt,
        onStdout: (text) => {
          if (text.split('\n').length > 2) interrupt.abort();
        },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout.split('\n')[0]).traceId, 't0');
      assert.match(r.stderr, /^trace stopped: \d+ lines\n$/);
      const deadline = Date.now() + 2000;
      while (running.agent.traceAborted === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
      assert.equal(running.agent.traceAborted, 1);
    });

    it('monitor prints change events until Ctrl-C', async () => {
      const interrupt = new AbortController();
      let applied = false;
      const r = await cli(['monitor'], {
        interrupt,
        onStdout: (text) => {
          if (!applied) {
            applied = true;
            void cli(['apply', '-f', file('a.yaml', ADMINS)]);
          } else if (text.includes('revision 1: apply')) {
            interrupt.abort();
          }
        },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\S+ resync: watching\n\S+ revision revision 1: apply\n$/);
    });
  });
});
