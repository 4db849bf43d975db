// flockguard end to end, what a firewall on a node must not break and must not lose: failsafe ports
// under a deny-all, IPv6 neighbour discovery, established connections across a policy change, pod and
// node traffic (left alone unless a "*" host endpoint selects it), other nodes' host endpoints,
// drift repair, and an agent stopped, killed and restarted while a denied client keeps trying.
// One lab (kube-proxy nftables mode) with the agent in its node namespace serves every test.
import assert from 'node:assert/strict';
import type { ConnectOutcome } from '../../scripts/lab/lab';
import {
  assertAll,
  clearPolicy,
  DROP_MS,
  eventually,
  examplePolicy,
  HeldConnection,
  NODE_NAME,
  probe,
  REACH_MS,
  serviceTargets,
  startFlockLab,
  stopFlockLab,
  type FlockLab,
} from './flock-fixtures';

/** Host endpoints with the example's label, so its deny-all policy selects them. */
function hostEndpoint(name: string, node: string, interfaceName: string): string {
  return `apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: ${name}
  labels:
    host-endpoint: ingress
spec:
  node: ${node}
  interfaceName: "${interfaceName}"
`;
}

const DENY_ALL = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-all
spec:
  preDNAT: true
  applyOnForward: true
  order: 1000
  selector: has(host-endpoint)
  types: [Ingress]
  ingress:
    - action: Deny
`;

function denyClient(address: string): string {
  return `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-client
spec:
  preDNAT: true
  applyOnForward: true
  order: 1
  selector: has(host-endpoint)
  types: [Ingress]
  ingress:
    - action: Deny
      source:
        nets: [${address}/32]
`;
}

describe('flockguard e2e @kernel: failsafes, neighbour discovery, conntrack, pods, drift and restarts', function () {
  let f: FlockLab | undefined;
  const the = (): FlockLab => {
    assert.ok(f, 'lab was not created');
    return f;
  };
  const nodePortV4 = (): { address: string; port: number } => ({ address: the().lab.node.eth0v4, port: the().lab.service.nodePort });

  before(async () => {
    f = await startFlockLab('nftables');
  });
  after(async () => {
    await stopFlockLab(f);
  });
  beforeEach(async () => {
    await clearPolicy(the().agent);
  });

  it('failsafe tcp:22 stays reachable from a denied client under deny-all; other node ports are dropped', async () => {
    const { lab, agent } = the();
    await agent.apply('example', examplePolicy());
    const n = lab.node;
    const [ssh4, ssh6, http4] = await Promise.all([
      lab.connect(lab.clients.denied, n.eth0v4, n.sshPort, { timeoutMs: REACH_MS }),
      lab.connect(lab.clients.denied, n.eth0v6 ?? '', n.sshPort, { timeoutMs: REACH_MS }),
      lab.connect(lab.clients.denied, n.eth0v4, n.httpPort, { timeoutMs: DROP_MS }),
    ]);
    assert.ok(ssh4.ok && ssh4.hello?.server === 'node', `ssh over IPv4: ${ssh4.detail}`);
    assert.ok(ssh6.ok && ssh6.hello?.server === 'node', `ssh over IPv6: ${ssh6.detail}`);
    assert.equal(http4.reason, 'timeout', `the node's port ${n.httpPort} is not a failsafe: ${http4.detail}`);
  });

  it('IPv6 neighbour discovery works under deny-all: after flushing the neighbour caches the allowed client still connects', async () => {
    const { lab, agent } = the();
    await agent.apply('example', examplePolicy());
    await lab.exec(lab.clients.allowed, ['ip', '-6', 'neigh', 'flush', 'all']);
    await lab.exec(lab.node, ['ip', '-6', 'neigh', 'flush', 'all']);
    const before = (await lab.exec(lab.node, ['ip', '-6', 'neigh', 'show', 'dev', 'eth0'])).stdout;
    assert.doesNotMatch(before, /fd00:192:0:2::10 .*(REACHABLE|STALE|DELAY)/, `the node still knows the client: ${before}`);
    const r = await lab.connect(lab.clients.allowed, lab.node.eth0v6 ?? '', lab.service.nodePort, { timeoutMs: 3000 });
    assert.ok(r.ok && r.hello?.server === 'pod', `allowed client over IPv6 after the flush: ${r.detail}`);
  });

  it('an established connection survives policy changes that deny new ones from its client (netset remove, explicit Deny)', async () => {
    const { lab, agent } = the();
    await agent.apply('example', examplePolicy());
    await agent.cli(['netset', 'add', 'allowed-clients', `${lab.clients.denied.v4}/32`]);
    const { address, port } = nodePortV4();
    const held = await HeldConnection.open(lab, lab.clients.denied, address, port);
    try {
      assert.equal(await held.echo('before the change', REACH_MS), 'before the change');
      await agent.cli(['netset', 'remove', 'allowed-clients', `${lab.clients.denied.v4}/32`]);
      const fresh = await lab.connect(lab.clients.denied, address, port, { timeoutMs: DROP_MS });
      assert.equal(fresh.reason, 'timeout', `a new connection from the removed client: ${fresh.detail}`);
      assert.equal(await held.echo('after the change', REACH_MS), 'after the change', 'the open connection still carries data');
      // An explicit Deny of that client, ordered before every other policy, changes nothing for it either.
      await agent.apply('deny-client', denyClient(lab.clients.denied.v4));
      const again = await lab.connect(lab.clients.denied, address, port, { timeoutMs: DROP_MS });
      assert.equal(again.reason, 'timeout', `a new connection under the explicit deny: ${again.detail}`);
      assert.equal(await held.echo('after the deny', REACH_MS), 'after the deny', 'the open connection still carries data');
    } finally {
      held.close();
    }
  });

  it('pod and node traffic is left alone by an eth0 host endpoint; a "*" host endpoint selects it too', async () => {
    const { lab, agent } = the();
    await agent.apply('example', examplePolicy());
    const { address, port } = nodePortV4();
    // The node's own connection to its own port loops back through lo and prerouting (no DNAT).
    const nodeOwn = (timeoutMs: number): Promise<ConnectOutcome> => lab.connect(lab.node, lab.node.eth0v4, lab.node.httpPort, { timeoutMs });
    const [fromPod, fromNode, fromDenied] = await Promise.all([
      lab.connect(lab.pod, address, port, { timeoutMs: REACH_MS }),
      nodeOwn(REACH_MS),
      lab.connect(lab.clients.denied, address, port, { timeoutMs: DROP_MS }),
    ]);
    assert.ok(fromPod.ok && fromPod.hello?.server === 'pod', `pod → NodePort under deny-all on eth0: ${fromPod.detail}`);
    assert.ok(fromNode.ok && fromNode.hello?.server === 'node', `node → its own port ${lab.node.httpPort} under deny-all on eth0: ${fromNode.detail}`);
    assert.equal(fromDenied.reason, 'timeout', `the deny-all is in force on eth0: ${fromDenied.detail}`);

    await agent.apply('all-interfaces', hostEndpoint(`${NODE_NAME}-all`, NODE_NAME, '*'));
    const [podAgain, nodeAgain, allowed] = await Promise.all([
      lab.connect(lab.pod, address, port, { timeoutMs: DROP_MS }),
      nodeOwn(DROP_MS),
      lab.connect(lab.clients.allowed, address, port, { timeoutMs: REACH_MS }),
    ]);
    assert.equal(podAgain.reason, 'timeout', `pod → NodePort under deny-all on a "*" host endpoint: ${podAgain.detail}`);
    assert.equal(nodeAgain.reason, 'timeout', `node → its own port over lo under deny-all on a "*" host endpoint: ${nodeAgain.detail}`);
    assert.ok(allowed.ok, `the allowed client still gets in on eth0: ${allowed.detail}`);
  });

  it("ignores other nodes' host endpoints in the same manifest", async () => {
    const { lab, agent } = the();
    const others = [hostEndpoint('node-2-eth0', 'node-2', 'eth0'), hostEndpoint('node-2-all', 'node-2', '*'), DENY_ALL].join('---\n');
    await agent.apply('other-nodes', others);
    const targets = serviceTargets(lab);
    assertAll(await probe(lab, lab.clients.denied, targets, REACH_MS), 'reached', 'denied client with only node-2 host endpoints');

    await agent.apply('mixed', [examplePolicy(), others].join('---\n'));
    assertAll(await probe(lab, lab.clients.denied, targets), 'dropped', 'denied client with node-1 eth0 and node-2 host endpoints');
    const fromPod = await lab.connect(lab.pod, lab.node.eth0v4, lab.service.nodePort, { timeoutMs: REACH_MS });
    assert.ok(fromPod.ok, `node-2's "*" host endpoint does not catch this node's pod: ${fromPod.detail}`);
  });

  it('repairs drift: a deleted table and a flushed chain are restored and the denial holds again', async () => {
    const { lab, agent } = the();
    await agent.apply('example', examplePolicy());
    const { address, port } = nodePortV4();
    const deniedDropped = async (): Promise<boolean> =>
      (await lab.connect(lab.clients.denied, address, port, { timeoutMs: 250 })).reason === 'timeout';
    const repairsBefore = (JSON.parse((await agent.cli(['status', '-o', 'json'])).stdout) as { driftRepairs: number }).driftRepairs;

    for (const tamper of [
      ['nft', 'delete', 'table', 'inet', 'flockguard'],
      ['nft', 'flush', 'chain', 'inet', 'flockguard', 'prerouting'],
    ]) {
      await lab.exec(lab.node, tamper);
      assert.ok(await eventually(deniedDropped, 2000), `the denial is back within ~2 s of: ${tamper.join(' ')}\n${agent.log}`);
      assert.ok(await deniedDropped(), `and it holds after: ${tamper.join(' ')}`);
    }
    const allowed = await lab.connect(lab.clients.allowed, address, port, { timeoutMs: REACH_MS });
    assert.ok(allowed.ok, `the allowed client after the repairs: ${allowed.detail}`);
    const status = JSON.parse((await agent.cli(['status', '-o', 'json'])).stdout) as { driftRepairs: number; inSync: boolean };
    assert.ok(status.driftRepairs >= repairsBefore + 2, `status counts both repairs: ${JSON.stringify(status)}`);
    assert.equal(status.inSync, true);
  });

  it('the denial holds through SIGTERM, kill -9 and restarts of the agent; the allowed client works after', async () => {
    const { lab, agent } = the();
    await agent.apply('example', examplePolicy());
    const { address, port } = nodePortV4();
    let running = true;
    const attempts: Array<{ ok: boolean; detail: string }> = [];
    const loop = (async (): Promise<void> => {
      while (running) attempts.push(await lab.connect(lab.clients.denied, address, port, { timeoutMs: 300 }));
    })();
    try {
      const term = await agent.stop('SIGTERM');
      assert.equal(term.code, 0, `the agent exits cleanly on SIGTERM: ${agent.log}`);
      await lab.exec(lab.node, ['nft', 'list', 'table', 'inet', 'flockguard']);
      await agent.start();
      const killed = await agent.stop('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      await agent.start();
      // Let the restarted agent settle (adopt the table) while the client keeps trying.
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      running = false;
      await loop;
    }
    const through = attempts.filter((a) => a.ok);
    assert.ok(attempts.length >= 5, `the denied client kept trying (${attempts.length} attempts)`);
    assert.deepEqual(through, [], `no connection from the denied client got through (${attempts.length} attempts)`);
    const allowed = await lab.connect(lab.clients.allowed, address, port, { timeoutMs: REACH_MS });
    assert.ok(allowed.ok, `the allowed client after the restart: ${allowed.detail}`);
    const status = await agent.cli(['status']);
    assert.match(status.stdout, /in sync/);
  });
});
