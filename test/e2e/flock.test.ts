// flockguard end to end, in both kube-proxy modes: the agent runs in the lab node's namespace, the
// example policy (examples/prednat-nodeport.yaml) is pushed with `flockguard apply -f`, and real
// connections from the lab's clients show who reaches the Service through the NodePort, the external
// IP and the LoadBalancer IP, over IPv4 and IPv6. The control case sits next to it: the same intent
// written as an input/forward filter lets the denied client through, because kube-proxy's DNAT has
// already rewritten the address and port those hooks see.
import assert from 'node:assert/strict';
import type { KubeProxyMode } from '../../scripts/lab/lab';
import {
  assertAll,
  clearPolicy,
  examplePolicy,
  probe,
  REACH_MS,
  serviceTargets,
  startFlockLab,
  stopFlockLab,
  type FlockLab,
} from './flock-fixtures';

const MODES: KubeProxyMode[] = ['nftables', 'iptables'];

/** "Deny the denied client the Service", written where it cannot work: after DNAT. */
function inputForwardFilter(f: FlockLab): string {
  const { lab } = f;
  const c = lab.clients.denied;
  const s = lab.service;
  const drops = [
    `ip saddr ${c.v4} ip daddr ${lab.node.eth0v4} tcp dport ${s.nodePort} counter drop`,
    `ip saddr ${c.v4} ip daddr { ${s.externalIP}, ${s.loadBalancerIP} } tcp dport ${s.port} counter drop`,
    `ip6 saddr ${c.v6} ip6 daddr ${lab.node.eth0v6} tcp dport ${s.nodePort} counter drop`,
    `ip6 saddr ${c.v6} ip6 daddr { ${s.externalIPv6}, ${s.loadBalancerIPv6} } tcp dport ${s.port} counter drop`,
  ].join('\n    ');
  return `table inet control {
  chain input {
    type filter hook input priority filter;
    ${drops}
  }
  chain forward {
    type filter hook forward priority filter;
    ${drops}
  }
}
`;
}

for (const mode of MODES) {
  describe(`flockguard e2e @kernel: pre-DNAT policy in the lab, kube-proxy ${mode} mode`, function () {
    let f: FlockLab | undefined;
    const the = (): FlockLab => {
      assert.ok(f, 'lab was not created');
      return f;
    };

    before(async () => {
      f = await startFlockLab(mode);
    });
    after(async () => {
      await stopFlockLab(f);
    });
    beforeEach(async () => {
      await clearPolicy(the().agent);
    });

    it('the allowed client reaches NodePort, external IP and LB IP (v4 and v6); the denied client reaches none', async () => {
      const { lab, agent } = the();
      const targets = serviceTargets(lab);
      assertAll(await probe(lab, lab.clients.denied, targets, REACH_MS), 'reached', 'denied client before any policy');
      await agent.apply('example', examplePolicy());
      const [allowed, denied] = await Promise.all([probe(lab, lab.clients.allowed, targets, REACH_MS), probe(lab, lab.clients.denied, targets)]);
      assertAll(allowed, 'reached', 'allowed client');
      assertAll(denied, 'dropped', 'denied client');
      // The answer came from the pod's port: the packet went on through kube-proxy's DNAT.
      assert.equal(allowed['NodePort v4'].hello?.local.port, lab.pod.port);
    });

    it('control: the same denial as an input/forward filter blocks nothing; as pre-DNAT policy it blocks', async () => {
      const { lab, agent } = the();
      const targets = serviceTargets(lab);
      await lab.nft(inputForwardFilter(the()));
      try {
        assertAll(await probe(lab, lab.clients.denied, targets, REACH_MS), 'reached', 'denied client under an input/forward filter');
        // The filter is live: it saw the connections, but only as <pod>:8080, which it does not match.
        const listed = (await lab.exec(lab.node, ['nft', 'list', 'table', 'inet', 'control'])).stdout;
        assert.doesNotMatch(listed, /packets [1-9]/, 'no input/forward drop rule matched');
        await agent.apply('example', examplePolicy());
        assertAll(await probe(lab, lab.clients.denied, targets), 'dropped', 'denied client under flockguard');
      } finally {
        await lab.exec(lab.node, ['nft', 'delete', 'table', 'inet', 'control']);
      }
    });
  });
}
