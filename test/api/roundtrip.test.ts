// Server and client over a real Unix socket with the fake agent: every RPC carries its fields both
// ways, errors keep their code and issues, streams end and cancel cleanly.
import assert from 'node:assert/strict';
import { ApiClient } from '../../src/api/client';
import { ServiceError } from '../../src/api/service';
import { startFakeAgent, type RunningAgent } from './helpers';

const POLICY = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-web
spec:
  preDNAT: true
  applyOnForward: true
  selector: has(host)
  ingress:
    - action: Allow
      protocol: TCP
      destination:
        ports: [80, 443]
`;

const NETSET = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: admins
spec:
  nets: [10.0.0.0/8]
`;

describe('api: client and server round trips', () => {
  let running: RunningAgent;
  let client: ApiClient;

  beforeEach(async () => {
    running = await startFakeAgent();
    client = await ApiClient.connect(running.socketPath);
  });

  afterEach(async () => {
    client.close();
    await running.stop();
  });

  it('apply reports created, then unchanged, then configured, with revisions and claimed peer', async () => {
    const first = await client.apply({ documents: [{ fileName: 'p.yaml', text: POLICY }], dryRun: false, skipUnsupported: false });
    assert.deepEqual(first.objects, [{ kind: 'GlobalNetworkPolicy', name: 'allow-web', action: 'created' }]);
    assert.equal(first.changed, true);
    assert.equal(first.revision, 1);
    assert.equal(first.kernelApplied, true);
    assert.equal(first.durationMs, 1.5);

    const again = await client.apply({ documents: [{ fileName: 'p.yaml', text: POLICY }], dryRun: false, skipUnsupported: false });
    assert.equal(again.changed, false);
    assert.equal(again.objects[0].action, 'unchanged');
    assert.equal(again.revision, 1);

    const edited = POLICY.replace('443', '8443');
    const dry = await client.apply({ documents: [{ fileName: 'p.yaml', text: edited }], dryRun: true, skipUnsupported: false });
    assert.equal(dry.objects[0].action, 'configured');
    assert.equal(dry.dryRun, true);
    assert.equal(dry.kernelApplied, false);
    assert.equal(running.agent.revision, 1, 'a dry run must not commit');

    const peer = running.agent.peers[0];
    assert.deepEqual(peer, { claimed: true, uid: process.getuid?.(), pid: process.pid, user: peer.user });
  });

  it('get returns full resources; a missing name is NOT_FOUND with the agent message', async () => {
    await client.apply({ documents: [{ fileName: 'a', text: POLICY + '---\n' + NETSET }], dryRun: false, skipUnsupported: false });
    const all = await client.get({});
    assert.equal(all.resources.length, 2);
    const one = await client.get({ kind: 'GlobalNetworkSet', name: 'admins' });
    assert.deepEqual(one.resources, [
      { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name: 'admins' }, spec: { nets: ['10.0.0.0/8'] } },
    ]);
    await assert.rejects(client.get({ kind: 'GlobalNetworkPolicy', name: 'nope' }), (err: ServiceError) => {
      assert.ok(err instanceof ServiceError);
      assert.equal(err.code, 'NOT_FOUND');
      assert.equal(err.status, 'NOT_FOUND');
      assert.match(err.message, /"nope" does not exist/);
      return true;
    });
  });

  it('diff carries current and desired objects', async () => {
    await client.apply({ documents: [{ fileName: 'a', text: NETSET }], dryRun: false, skipUnsupported: false });
    const d = await client.diff({ documents: [{ fileName: 'a', text: NETSET.replace('10.0.0.0/8', '192.0.2.0/24') + '---\n' + POLICY }], skipUnsupported: false });
    assert.equal(d.changed, true);
    assert.deepEqual(
      d.entries.map((e) => [e.kind, e.name, e.action, e.current === undefined]),
      [
        ['GlobalNetworkSet', 'admins', 'configured', false],
        ['GlobalNetworkPolicy', 'allow-web', 'created', true],
      ],
    );
    assert.deepEqual((d.entries[0].desired as { spec: unknown }).spec, { nets: ['192.0.2.0/24'] });
  });

  it('status, history and rollback', async () => {
    await client.apply({ documents: [{ fileName: 'a', text: NETSET }], dryRun: false, skipUnsupported: false });
    await client.apply({ documents: [{ fileName: 'b', text: POLICY }], dryRun: false, skipUnsupported: false });
    const status = await client.status();
    assert.equal(status.inSync, true);
    assert.equal(status.revision, 2);
    assert.equal(status.generation, 42);
    assert.equal(status.lastCommitDurationMs, 2.25);
    assert.equal(status.lastRepairs[0].description, 'rule hep-eth0/3 was deleted by pid 4242 (nft)');
    assert.equal(status.resourceCount, 2);

    const history = await client.history();
    assert.deepEqual(history.map((h) => h.revision), [2, 1]);
    assert.equal(history[0].actor?.pid, process.pid);
    assert.equal(history[0].actor?.claimed, true);

    const back = await client.rollback({ dryRun: false });
    assert.deepEqual(back.objects, [
      { kind: 'GlobalNetworkSet', name: 'admins', action: 'unchanged' },
      { kind: 'GlobalNetworkPolicy', name: 'allow-web', action: 'deleted' },
    ]);
    assert.equal(back.revision, 3);
    await assert.rejects(client.rollback({ toRevision: 99, dryRun: false }), { code: 'REVISION_NOT_FOUND' });
  });

  it('delete by reference and netset add/remove', async () => {
    await client.apply({ documents: [{ fileName: 'a', text: NETSET + '---\n' + POLICY }], dryRun: false, skipUnsupported: false });
    const added = await client.netsetAdd({ name: 'admins', cidrs: ['192.0.2.0/24'], dryRun: false });
    assert.equal(added.changed, true);
    assert.deepEqual((await client.get({ kind: 'GlobalNetworkSet', name: 'admins' })).resources[0], {
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkSet',
      metadata: { name: 'admins' },
      spec: { nets: ['10.0.0.0/8', '192.0.2.0/24'] },
    });
    const removed = await client.netsetRemove({ name: 'admins', cidrs: ['10.0.0.0/8'], dryRun: false });
    assert.equal(removed.objects[0].action, 'configured');

    const deleted = await client.delete({ refs: [{ kind: 'GlobalNetworkPolicy', name: 'allow-web' }], documents: [], dryRun: false, skipNotExists: false });
    assert.deepEqual(deleted.objects, [{ kind: 'GlobalNetworkPolicy', name: 'allow-web', action: 'deleted' }]);
    await assert.rejects(
      client.delete({ refs: [{ kind: 'GlobalNetworkPolicy', name: 'allow-web' }], documents: [], dryRun: false, skipNotExists: false }),
      { code: 'NOT_FOUND' },
    );
    const skipped = await client.delete({ refs: [{ kind: 'GlobalNetworkPolicy', name: 'allow-web' }], documents: [], dryRun: false, skipNotExists: true });
    assert.equal(skipped.changed, false);
  });

  it('explain and counters keep optional fields absent rather than zero', async () => {
    const dropped = await client.explain({ iif: 'eth0', src: '198.51.100.7', dst: '192.0.2.1', protocol: 'tcp', dport: 80 });
    assert.equal(dropped.verdict, 'drop');
    assert.deepEqual(dropped.path[1], {
      chain: 'hep-eth0',
      rule: 'drop',
      comment: 'policy=deny-all rule=0 action=Deny',
      policy: 'deny-all',
      ruleIndex: 0,
      verdict: 'drop',
    });
    assert.equal(dropped.path[0].ruleIndex, undefined);
    assert.equal(dropped.path[0].policy, undefined);

    const counters = await client.counters('allow-web');
    assert.deepEqual(counters.counters.map((c) => [c.policy, c.ruleIndex, c.packets, c.bytes]), [['allow-web', 0, 12, 3400]]);
  });

  it('policy errors keep their code and every issue', async () => {
    const issues = [
      { object: 'GlobalNetworkPolicy/x', field: 'spec.preDNAT', value: false, message: 'must be true', code: 'POLICY_NOT_PREDNAT', position: { file: 'x.yaml', line: 5, column: 3 } },
      { object: 'GlobalNetworkPolicy/y', field: 'spec.ingress[0].action', value: 'Jump', message: 'unknown action', code: 'POLICY_BAD_ACTION' },
    ];
    running.agent.failNext = new ServiceError('POLICY_INVALID', '2 errors in the policy', { issues });
    await assert.rejects(client.apply({ documents: [], dryRun: false, skipUnsupported: false }), (err: ServiceError) => {
      assert.equal(err.code, 'POLICY_INVALID');
      assert.equal(err.status, 'INVALID_ARGUMENT');
      assert.deepEqual(err.issues, issues);
      return true;
    });
    running.agent.failNext = Object.assign(new Error('NEWRULE: EINVAL'), { code: 'NFT_KERNEL_ERROR' }) as unknown as ServiceError;
    await assert.rejects(client.apply({ documents: [], dryRun: false, skipUnsupported: false }), {
      code: 'NFT_KERNEL_ERROR',
      status: 'INTERNAL',
      message: 'NEWRULE: EINVAL',
    });
  });

  it('trace streams until its timeout', async () => {
    const lines = [];
    for await (const line of client.trace({ dport: 8080, timeoutMs: 120 })) lines.push(line);
    assert.ok(lines.length >= 2, `expected several lines, got ${lines.length}`);
    assert.match(lines[0].text, /tcp dport 8080 drop/);
    assert.equal(lines[0].ruleIndex, 0);
  });

  it('cancelling a trace ends the stream on both sides', async () => {
    const stream = client.trace({ timeoutMs: 60_000 });
    let seen = 0;
    for await (const line of stream) {
      assert.equal(line.traceId, `t${seen}`);
      seen++;
      if (seen === 3) stream.cancel();
    }
    assert.equal(seen, 3);
    const deadline = Date.now() + 2000;
    while (running.agent.traceAborted === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(running.agent.traceAborted, 1, 'the agent saw the cancellation');
  });

  it('monitor delivers change events as they happen', async () => {
    const stream = client.monitor();
    const events: string[] = [];
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    events.push(first.value.type);
    await client.apply({ documents: [{ fileName: 'a', text: NETSET }], dryRun: false, skipUnsupported: false });
    const second = await iterator.next();
    events.push(`${second.value.type}:${second.value.revision}`);
    stream.cancel();
    assert.deepEqual(events, ['resync', 'revision:1']);
  });
});

describe('api: reaching the agent', () => {
  it('a missing socket is AGENT_UNREACHABLE with what to do next', async () => {
    await assert.rejects(ApiClient.connect('/nonexistent/flockguard.sock'), (err: ServiceError) => {
      assert.equal(err.code, 'AGENT_UNREACHABLE');
      assert.match(err.message, /cannot reach the agent at \/nonexistent\/flockguard.sock \(ENOENT\): is it running\? \(systemctl status flockguard/);
      return true;
    });
  });
});
