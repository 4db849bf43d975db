// The lab must never route anything to the outside world: every address it configures, routes to
// or writes into kube-proxy rules lies in a documentation range (RFC 5737) or in unique-local fd00::/8.
import assert from 'node:assert/strict';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { renderKubeProxyIptables } from '../../scripts/lab/kube-proxy-iptables';
import { renderKubeProxyNftables } from '../../scripts/lab/kube-proxy-nftables';
import { familyPlan, labService } from '../../scripts/lab/plan';
import { wiring } from '../../scripts/lab/topology';

const LAB_RANGES = new BlockList();
LAB_RANGES.addSubnet('192.0.2.0', 24, 'ipv4');
LAB_RANGES.addSubnet('198.51.100.0', 24, 'ipv4');
LAB_RANGES.addSubnet('203.0.113.0', 24, 'ipv4');
LAB_RANGES.addSubnet('fd00::', 8, 'ipv6');

/** Every IP address literal in a text; prefix lengths fall away, an IPv4 address's :port is cut. */
function addressesIn(text: string): string[] {
  const found: string[] = [];
  for (const raw of text.match(/[0-9a-f:.]*[:.][0-9a-f:.]*/gi) ?? []) {
    const withPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(raw);
    const candidate = withPort ? withPort[1] : raw.replace(/^\.+|\.+$/g, '');
    if (isIPv4(candidate) || isIPv6(candidate)) found.push(candidate);
  }
  return found;
}

function assertAllInLabRanges(where: string, text: string): void {
  const found = addressesIn(text);
  assert.ok(found.length > 0, `${where}: found no addresses at all`);
  for (const a of found) {
    assert.ok(LAB_RANGES.check(a, isIPv4(a) ? 'ipv4' : 'ipv6'), `${where}: ${a} is outside the lab's ranges`);
  }
}

describe('lab: address plan stays inside documentation and ULA ranges', () => {
  it('the address filter itself rejects public addresses', () => {
    assert.equal(LAB_RANGES.check('8.8.8.8', 'ipv4'), false);
    assert.equal(LAB_RANGES.check('2001:4860::8888', 'ipv6'), false);
    assert.deepEqual(addressesIn('addr add 10.1.2.3/24 dev eth0 route add 2001:db8::/32 via fe80::1 dnat to 1.2.3.4:80'), [
      '10.1.2.3',
      '2001:db8::',
      'fe80::1',
      '1.2.3.4',
    ]);
  });

  it('interfaces and routes', () => {
    for (const ipv6 of [false, true]) {
      for (const batch of wiring((role) => `fglab-test-${role}`, ipv6)) {
        const text = batch.lines.join('\n');
        if (/addr add|route add/.test(text)) assertAllInLabRanges(`${batch.role} (ipv6=${ipv6})`, text);
        assert.doesNotMatch(text, /route add default via (?!203\.0\.113\.1$|fd00:203:0:113::1$)/m, 'only the pod has a default route, to the node');
      }
    }
  });

  it('kube-proxy rules in both modes and families', () => {
    for (const policy of ['Cluster', 'Local'] as const) {
      for (const family of [4, 6] as const) {
        const plan = familyPlan(family);
        assertAllInLabRanges(`nftables IPv${family} ${policy}`, renderKubeProxyNftables(plan, labService(policy)));
        assertAllInLabRanges(`iptables IPv${family} ${policy}`, renderKubeProxyIptables(plan, labService(policy)));
      }
    }
  });
});
