// Self-tests of the end-to-end lab, with no flockguard in it: kube-proxy's rules (both modes) carry
// clients to the pod through the NodePort, the external IP and the LoadBalancer IP, over IPv4 and
// IPv6; and the control case that motivates flockguard: a filter at input/forward cannot block
// <node>:30080 because the packet it sees is already DNATed, while the same rule at prerouting -150
// can. Every lab is destroyed in after/afterEach hooks, also when a test fails.
import assert from 'node:assert/strict';
import { Lab, type KubeProxyMode, type LabHost, type Proto } from '../../scripts/lab/lab';

const MODES: KubeProxyMode[] = ['nftables', 'iptables'];
const PROTOS: Proto[] = ['tcp', 'udp'];

interface Destination {
  what: string;
  address: string;
  port: number;
}

/** What a client can ask for, per family: the NodePort on eth0, the external IP, the LB IP. */
function destinations(lab: Lab, family: 4 | 6): Destination[] {
  const pick = (v4: string, v6: string | undefined): string => {
    if (family === 4) return v4;
    assert.ok(v6, 'lab created without IPv6');
    return v6;
  };
  return [
    { what: 'NodePort', address: pick(lab.node.eth0v4, lab.node.eth0v6), port: lab.service.nodePort },
    { what: 'external IP', address: pick(lab.service.externalIP, lab.service.externalIPv6), port: lab.service.port },
    { what: 'LoadBalancer IP', address: pick(lab.service.loadBalancerIP, lab.service.loadBalancerIPv6), port: lab.service.port },
  ];
}

function podAddress(lab: Lab, family: 4 | 6): string | undefined {
  return family === 4 ? lab.pod.v4 : lab.pod.v6;
}

function clientAddress(host: LabHost, family: 4 | 6): string | undefined {
  return family === 4 ? host.v4 : host.v6;
}

for (const mode of MODES) {
  describe(`lab @kernel: kube-proxy ${mode} mode`, function () {
    let lab: Lab | undefined;
    const theLab = (): Lab => {
      assert.ok(lab, 'lab was not created');
      return lab;
    };

    before(async () => {
      lab = await Lab.create({ kubeProxyMode: mode, ipv6: true });
    });
    after(async () => {
      await lab?.destroy();
    });

    it('writes kube-proxy objects in the node namespace only', async () => {
      const l = theLab();
      if (mode === 'nftables') {
        const v4 = (await l.exec(l.node, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
        // nft prints -110 symbolically as "dstnat - 10" for a filter chain at prerouting.
        assert.match(v4, /chain filter-prerouting-pre-dnat \{\s+type filter hook prerouting priority (-110|dstnat - 10);/);
        assert.match(v4, /chain nat-prerouting \{\s+type nat hook prerouting priority dstnat; policy accept;\s+jump services/);
        assert.match(v4, /map service-ips \{\s+type ipv4_addr \. inet_proto \. inet_service : verdict/);
        assert.match(v4, /set nodeport-ips \{[^}]*elements = \{ 192\.0\.2\.1 \}/);
        assert.match(v4, /tcp \. 30080 : goto external-\w{8}-lab\/echo\/tcp\/echo-tcp/);
        assert.match(v4, /meta l4proto tcp dnat to 203\.0\.113\.10:8080/);
        const v6 = (await l.exec(l.node, ['nft', 'list', 'table', 'ip6', 'kube-proxy'])).stdout;
        assert.match(v6, /dnat to \[fd00:203:0:113::10\]:8080/);
      } else {
        const nat = (await l.exec(l.node, ['iptables-nft-save', '-t', 'nat'])).stdout;
        assert.match(nat, /-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES/);
        assert.match(nat, /-A KUBE-SERVICES .*--dst-type LOCAL -j KUBE-NODEPORTS/);
        assert.match(nat, /-A KUBE-NODEPORTS .*--dport 30080 -j KUBE-EXT-\w{16}/);
        assert.match(nat, /-j DNAT --to-destination 203\.0\.113\.10:8080/);
        const nat6 = (await l.exec(l.node, ['ip6tables-nft-save', '-t', 'nat'])).stdout;
        assert.match(nat6, /-j DNAT --to-destination \[fd00:203:0:113::10\]:8080/);
      }
      for (const ns of [l.lan.ns, l.pod.ns, l.clients.allowed.ns]) {
        assert.equal((await l.exec(ns, ['nft', 'list', 'ruleset'])).stdout.trim(), '', `${ns} has no rules`);
      }
    });

    for (const family of [4, 6] as const) {
      for (const proto of PROTOS) {
        it(`IPv${family} ${proto}: the allowed client reaches the pod through NodePort, external IP and LB IP`, async () => {
          const l = theLab();
          for (const d of destinations(l, family)) {
            const r = await l.connect(l.clients.allowed, d.address, d.port, { proto, timeoutMs: 3000 });
            assert.ok(r.ok, `${d.what}: ${r.detail}`);
            assert.equal(r.hello?.server, 'pod', d.what);
            assert.equal(r.hello?.proto, proto);
            // The server in the pod sees the DNATed destination: the pod address and target port.
            assert.deepEqual(r.hello?.local, { address: podAddress(l, family), port: l.pod.port }, d.what);
            // externalTrafficPolicy Cluster: kube-proxy masquerades, so the pod sees the node's side.
            assert.equal(r.hello?.remote.address, family === 4 ? l.node.podSideV4 : l.node.podSideV6, d.what);
          }
        });
      }
    }

    it('the node itself (nat-output) and the pod (hairpin) reach the Service too', async () => {
      const l = theLab();
      const targets: Array<[string | undefined, number]> = [
        [l.node.eth0v4, l.service.nodePort],
        [l.node.eth0v6, l.service.nodePort],
        [l.service.clusterIP, l.service.port],
        [l.service.clusterIPv6, l.service.port],
        [l.service.loadBalancerIP, l.service.port],
        [l.service.loadBalancerIPv6, l.service.port],
      ];
      for (const from of [l.node, l.pod]) {
        for (const [address, port] of targets) {
          assert.ok(address);
          const r = await l.connect(from, address, port, { timeoutMs: 3000 });
          assert.ok(r.ok, `from ${from.role}: ${r.detail}`);
          assert.equal(r.hello?.server, 'pod');
        }
      }
    });

    it('a port kube-proxy does not serve is refused by the node (nothing listens on it)', async () => {
      const l = theLab();
      const r = await l.connect(l.clients.allowed, l.node.eth0v4, l.service.nodePort + 1, { timeoutMs: 2000 });
      assert.equal(r.ok, false);
      assert.equal(r.reason, 'refused', r.detail);
    });

    it('the node serves its own ports, without DNAT', async () => {
      const l = theLab();
      for (const port of [l.node.sshPort, l.node.httpPort]) {
        const r = await l.connect(l.clients.denied, l.node.eth0v4, port, { timeoutMs: 2000 });
        assert.ok(r.ok, r.detail);
        assert.equal(r.hello?.server, 'node');
        assert.deepEqual(r.hello?.remote.address, l.clients.denied.v4);
      }
    });
  });
}

for (const mode of MODES) {
  describe(`lab @kernel: externalTrafficPolicy Local, ${mode} mode`, () => {
    let lab: Lab | undefined;
    before(async () => {
      lab = await Lab.create({ kubeProxyMode: mode, ipv6: true, externalTrafficPolicy: 'Local' });
    });
    after(async () => {
      await lab?.destroy();
    });

    it('keeps the client address: the pod sees who connected', async () => {
      assert.ok(lab);
      for (const family of [4, 6] as const) {
        for (const d of destinations(lab, family)) {
          const r = await lab.connect(lab.clients.denied, d.address, d.port, { timeoutMs: 3000 });
          assert.ok(r.ok, `${d.what}: ${r.detail}`);
          assert.equal(r.hello?.server, 'pod');
          assert.equal(r.hello?.remote.address, clientAddress(lab.clients.denied, family), d.what);
        }
      }
    });
  });
}

for (const mode of MODES) {
  describe(`lab @kernel: control case, why pre-DNAT matters (${mode} mode)`, () => {
    let lab: Lab | undefined;
    const theLab = (): Lab => {
      assert.ok(lab, 'lab was not created');
      return lab;
    };
    before(async () => {
      lab = await Lab.create({ kubeProxyMode: mode, ipv6: true });
    });
    afterEach(async () => {
      for (const table of ['filter', 'prednat']) {
        await lab?.exec(lab.node, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
      }
    });
    after(async () => {
      await lab?.destroy();
    });

    for (const family of [4, 6] as const) {
      const l3 = family === 4 ? 'ip' : 'ip6';

      it(`IPv${family}: a drop for <node>:30080 at input and forward does not block the NodePort`, async () => {
        const l = theLab();
        const node = family === 4 ? l.node.eth0v4 : l.node.eth0v6;
        const pod = podAddress(l, family);
        await l.nft(`
          table inet filter {
            chain input {
              type filter hook input priority 0;
              ${l3} daddr ${node} tcp dport ${l.service.nodePort} counter drop
            }
            chain forward {
              type filter hook forward priority 0;
              ${l3} daddr ${node} tcp dport ${l.service.nodePort} counter drop
              ${l3} daddr ${pod} tcp dport ${l.pod.port} counter comment "what forward really sees"
            }
          }`);
        const r = await l.connect(l.clients.allowed, node ?? '', l.service.nodePort, { timeoutMs: 2000 });
        assert.ok(r.ok, `the post-DNAT filter should not have blocked it: ${r.detail}`);
        const table = (await l.exec(l.node, ['nft', 'list', 'table', 'inet', 'filter'])).stdout;
        const counters = [...table.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
        assert.deepEqual(counters.slice(0, 2), [0, 0], 'the drop rules never matched');
        assert.ok(counters[2] > 0, 'forward saw the connection with the pod address and target port');
      });

      it(`IPv${family}: the same drop at prerouting priority -150 (before DNAT) blocks it`, async () => {
        const l = theLab();
        const node = family === 4 ? l.node.eth0v4 : l.node.eth0v6;
        assert.ok(node);
        const before = await l.connect(l.clients.allowed, node, l.service.nodePort, { timeoutMs: 2000 });
        assert.ok(before.ok, `reachable before the rule: ${before.detail}`);
        await l.nft(`
          table inet prednat {
            chain prerouting {
              type filter hook prerouting priority -150;
              ${l3} daddr ${node} tcp dport ${l.service.nodePort} counter drop
            }
          }`);
        const r = await l.connect(l.clients.allowed, node, l.service.nodePort, { timeoutMs: 1500 });
        assert.equal(r.ok, false, 'blocked');
        assert.equal(r.reason, 'timeout', r.detail);
        // Narrow: the node's own port on the same address still answers.
        const ssh = await l.connect(l.clients.allowed, node, l.node.sshPort, { timeoutMs: 2000 });
        assert.ok(ssh.ok, ssh.detail);
      });
    }
  });
}

describe('lab @kernel: ping and throughput', () => {
  let lab: Lab | undefined;
  before(async () => {
    lab = await Lab.create({ kubeProxyMode: 'nftables', ipv6: true });
  });
  after(async () => {
    await lab?.destroy();
  });

  it('pings the node over IPv4 and IPv6; an absent address gets no answer', async () => {
    assert.ok(lab?.node.eth0v6);
    assert.ok((await lab.ping(lab.clients.allowed, lab.node.eth0v4)).ok);
    assert.ok((await lab.ping(lab.clients.allowed, lab.node.eth0v6)).ok);
    const absent = await lab.ping(lab.clients.allowed, '192.0.2.99', { timeoutMs: 1000 });
    assert.equal(absent.ok, false, absent.detail);
  });

  it('measures a bounded bulk transfer through the NodePort (client → node → pod)', async () => {
    assert.ok(lab);
    const r = await lab.measureThroughput(lab.clients.allowed, lab.node.eth0v4, lab.service.nodePort, { durationMs: 500 });
    assert.ok(r.bytes > 0);
    assert.ok(r.seconds >= 0.5 && r.seconds < 5, `took ${r.seconds} s`);
    assert.equal(r.bytesPerSecond, r.bytes / r.seconds);
  });

  it('measures the rate of new connections through the NodePort', async () => {
    assert.ok(lab);
    const r = await lab.measureConnectionRate(lab.clients.allowed, lab.node.eth0v4, lab.service.nodePort, {
      durationMs: 500,
      concurrency: 4,
    });
    assert.equal(r.failures, 0, r.firstFailure);
    assert.ok(r.connections > 0);
    assert.equal(r.connectionsPerSecond, r.connections / r.seconds);
  });

  it('counts connections that the pod never answers as failures', async () => {
    assert.ok(lab);
    const r = await lab.measureConnectionRate(lab.clients.allowed, lab.node.eth0v4, lab.service.nodePort + 1, {
      durationMs: 200,
      concurrency: 2,
    });
    assert.equal(r.connections, 0);
    assert.ok(r.failures > 0);
    assert.match(r.firstFailure ?? '', /ECONNREFUSED/);
  });

  it('throughput to a blocked destination fails with a coded error instead of a number', async () => {
    assert.ok(lab);
    await lab.nft(`
      table inet block {
        chain p {
          type filter hook prerouting priority -150;
          tcp dport ${lab.service.nodePort} drop
        }
      }`);
    try {
      await assert.rejects(
        lab.measureThroughput(lab.clients.allowed, lab.node.eth0v4, lab.service.nodePort, { durationMs: 200, timeoutMs: 500 }),
        { code: 'LAB_THROUGHPUT_FAILED' },
      );
    } finally {
      await lab.exec(lab.node, ['nft', 'delete', 'table', 'inet', 'block']);
    }
  });
});
