// Golden: the protect-hosts pattern (allow NodePorts from the load balancers' network set, log and
// deny the rest) as nft text. Reviewed by hand against calico-prednat.md; a change here is a change
// in what users see in `nft list`.
import assert from 'node:assert/strict';
import { compile } from '../../src/compiler';
import { gnp, gns, hep } from './fixtures';
import { renderRuleset } from './render';

const GOLDEN = `
table inet flockguard {
	set host4-81880708 {
		type ipv4_addr
		comment "selector role == 'lb'"
		elements = { 203.0.113.7 }
	}
	set sel4-81880708 {
		type ipv4_addr
		flags interval
		comment "selector role == 'lb'"
		elements = { 198.51.100.0-198.51.101.255 }
	}
	chain prerouting {
		type filter hook prerouting priority -150; policy accept;
		ct state established,related counter accept comment "conntrack established,related"
		meta nfproto ipv6 meta l4proto 58 @th,0,8 133-137 counter accept comment "icmpv6 neighbour discovery"
		meta nfproto ipv4 meta l4proto 17 th dport 67-68 counter accept comment "dhcp"
		meta nfproto ipv6 meta l4proto 17 th dport 546-547 counter accept comment "dhcpv6"
		iifname "eth0" counter goto hep-node1-eth0 comment "dispatch hep=node1-eth0 iifname=eth0"
	}
	chain failsafe-in {
		meta l4proto 6 th dport 22 counter accept comment "failsafe tcp:22"
	}
	chain hep-node1-eth0 {
		ct state invalid counter drop comment "conntrack invalid"
		counter jump failsafe-in comment "failsafe"
		counter jump hep-node1-eth0/default comment "tier=default"
	}
	chain hep-node1-eth0/default {
		meta nfproto ipv4 meta l4proto 6 ip saddr @sel4-81880708 th dport 30000-32767 counter accept comment "policy=allow-nodeports-from-lb rule=0 action=Allow"
		meta nfproto ipv4 meta l4proto 6 ip saddr @host4-81880708 th dport 30000-32767 counter accept comment "policy=allow-nodeports-from-lb rule=0 action=Allow"
		counter log prefix "flockguard policy=drop-other-ingress rule=0: " comment "policy=drop-other-ingress rule=0 action=Log"
		counter drop comment "policy=drop-other-ingress rule=1 action=Deny"
	}
}
`;

describe('compiler golden output', () => {
  it('protect-hosts: NodePorts from the load balancers, everything else logged and denied', () => {
    const rs = compile(
      [
        hep('node1-eth0', { interfaceName: 'eth0', expectedIPs: ['192.0.2.10'] }, { 'host-endpoint': 'ingress' }),
        gns('load-balancers', ['198.51.100.0/24', '198.51.101.0/24', '203.0.113.7'], { role: 'lb' }),
        gnp('allow-nodeports-from-lb', { order: 10, selector: 'has(host-endpoint)' }, [
          { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'lb'" }, destination: { ports: ['30000:32767'] } },
        ]),
        gnp('drop-other-ingress', { order: 20, selector: 'has(host-endpoint)' }, [{ action: 'Log' }, { action: 'Deny' }]),
      ],
      'node1',
      { failsafeInbound: ['tcp:22'] },
    );
    assert.equal(renderRuleset(rs), GOLDEN.slice(1));
  });
});
