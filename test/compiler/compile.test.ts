// The compiler's semantics, checked on the Ruleset it returns (pure: no kernel). Rules are read
// through the test renderer, so assertions name the nft text a user would see.
import assert from 'node:assert/strict';
import { CompileError, compile } from '../../src/compiler';
import { Ruleset } from '../../src/nftables/model';
import { Resource, Rule as CalicoRule } from '../../src/policy/model';
import { gnp, gns, hep, representative, tier } from './fixtures';
import { renderRule, renderRuleset } from './render';

function chainText(rs: Ruleset, chain: string): string[] {
  return (rs.rules.get(chain) ?? []).map(renderRule);
}

/** Rule texts (without comment) of every rule whose comment starts with `comment`. */
function rulesFor(rs: Ruleset, comment: string): string[] {
  return [...rs.rules.values()].flat().filter((r) => r.comment?.startsWith(comment)).map((r) => renderRule({ ...r, comment: undefined }));
}

const eth0 = (labels: Record<string, string> = { host: 'a' }) => hep('eth0-hep', { interfaceName: 'eth0', expectedIPs: ['10.0.0.1'] }, labels);

function compileErr(fn: () => unknown): CompileError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CompileError, String(err));
    return err;
  }
  assert.fail('expected a CompileError');
}

describe('compiler', () => {
  describe('table and base chain', () => {
    it('one inet table with a prerouting filter chain at -150, policy accept; priority and name configurable', () => {
      const rs = compile([], 'node1');
      assert.deepEqual(rs.table, { family: 'inet', name: 'flockguard' });
      assert.deepEqual(rs.chains[0].base, { type: 'filter', hook: 'prerouting', priority: -150, policy: 'accept' });
      const custom = compile([], 'node1', { priority: -160, tableName: 'fg2' });
      assert.equal(custom.table.name, 'fg2');
      assert.equal(custom.chains[0].base?.priority, -160);
      assert.ok([...custom.rules.values()].flat().every((r) => r.table === 'fg2'));
    });

    it('conntrack first, then ND and DHCP accepts, then dispatch', () => {
      const rs = compile([eth0()], 'node1');
      assert.deepEqual(chainText(rs, 'prerouting'), [
        'ct state established,related counter accept comment "conntrack established,related"',
        'meta nfproto ipv6 meta l4proto 58 @th,0,8 133-137 counter accept comment "icmpv6 neighbour discovery"',
        'meta nfproto ipv4 meta l4proto 17 th dport 67-68 counter accept comment "dhcp"',
        'meta nfproto ipv6 meta l4proto 17 th dport 546-547 counter accept comment "dhcpv6"',
        'iifname "eth0" counter goto hep-eth0-hep comment "dispatch hep=eth0-hep iifname=eth0"',
      ]);
    });

    it('every rule has a counter and a comment', () => {
      const rs = compile(representative(), 'node1');
      const all = [...rs.rules.values()].flat();
      assert.ok(all.length > 40);
      for (const r of all) {
        assert.ok(r.comment, renderRule(r));
        assert.ok(r.exprs.some((e) => e.type === 'counter'), renderRule(r));
      }
    });
  });

  describe('endpoints and dispatch', () => {
    it('only this node\'s HostEndpoints are dispatched to', () => {
      const rs = compile([eth0(), hep('far', { node: 'node2', interfaceName: 'eth1' }, { host: 'a' })], 'node1');
      assert.deepEqual(rulesFor(rs, 'dispatch'), ['iifname "eth0" counter goto hep-eth0-hep']);
      assert.deepEqual(rulesFor(compile([eth0()], 'node9'), 'dispatch'), []);
    });

    it('interface endpoints by name, then address-bound ones, then "*" as the fallback; first by name wins a clash', () => {
      const rs = compile(
        [
          hep('z-star', { interfaceName: '*' }),
          hep('a-star', { interfaceName: '*' }),
          hep('byip', { expectedIPs: ['10.0.0.9', 'fd00::9'] }),
          hep('b-eth1', { interfaceName: 'eth1' }),
          hep('a-eth1', { interfaceName: 'eth1' }),
          hep('eth0', { interfaceName: 'eth0' }),
        ],
        'node1',
      );
      assert.deepEqual(rulesFor(rs, 'dispatch'), [
        'iifname "eth0" counter goto hep-eth0',
        'iifname "eth1" counter goto hep-a-eth1',
        'meta nfproto ipv4 ip daddr 10.0.0.9 counter goto hep-byip',
        'meta nfproto ipv6 ip6 daddr fd00:0:0:0:0:0:0:9 counter goto hep-byip',
        'counter goto hep-a-star',
      ]);
    });

    it('each endpoint chain: invalid drop, failsafes, then one jump per tier', () => {
      const rs = compile([eth0(), tier('t1', 5), gnp('p1', { tier: 't1' }), gnp('p2', {})], 'node1');
      assert.deepEqual(chainText(rs, 'hep-eth0-hep'), [
        'ct state invalid counter drop comment "conntrack invalid"',
        'counter jump failsafe-in comment "failsafe"',
        'counter jump hep-eth0-hep/t1 comment "tier=t1"',
        'counter jump hep-eth0-hep/default comment "tier=default"',
      ]);
      const noInvalid = compile([eth0()], 'node1', { dropInvalid: false });
      assert.deepEqual(chainText(noInvalid, 'hep-eth0-hep'), ['counter jump failsafe-in comment "failsafe"']);
    });
  });

  describe('failsafes', () => {
    it('Calico\'s defaults, one accept rule each', () => {
      const rs = compile([eth0()], 'node1');
      assert.deepEqual(
        (rs.rules.get('failsafe-in') ?? []).map((r) => r.comment),
        ['tcp:22', 'udp:68', 'tcp:179', 'tcp:2379', 'tcp:2380', 'tcp:5473', 'tcp:6443', 'tcp:6666', 'tcp:6667'].map((f) => `failsafe ${f}`),
      );
      assert.equal(chainText(rs, 'failsafe-in')[1], 'meta l4proto 17 th dport 68 counter accept comment "failsafe udp:68"');
    });

    it('bare ports, CIDRs and bracketed IPv6 CIDRs; "none" disables', () => {
      const rs = compile([eth0()], 'node1', { failsafeInbound: ['2222', 'udp:10.1.0.0/16:53', 'tcp:[2001:db8::/32]:22'] });
      assert.deepEqual(chainText(rs, 'failsafe-in'), [
        'meta l4proto 6 th dport 2222 counter accept comment "failsafe tcp:2222"',
        'meta nfproto ipv4 meta l4proto 17 ip saddr 10.1.0.0/16 th dport 53 counter accept comment "failsafe udp:10.1.0.0/16:53"',
        'meta nfproto ipv6 meta l4proto 6 ip6 saddr 2001:db8:0:0:0:0:0:0/32 th dport 22 counter accept comment "failsafe tcp:2001:db8::/32:22"',
      ]);
      const none = compile([eth0()], 'node1', { failsafeInbound: ['none'] });
      assert.equal(none.rules.get('failsafe-in'), undefined);
      assert.ok(!chainText(none, 'hep-eth0-hep').some((t) => t.includes('failsafe')));
    });

    it('bad entries are refused with the entry named', () => {
      for (const bad of ['icmp:1', 'tcp:70000', 'tcp:2001:db8::/32:22', 'tcp:10.0.0.300/8:22', 'tcp:']) {
        const err = compileErr(() => compile([], 'node1', { failsafeInbound: [bad] }));
        assert.equal(err.code, 'BAD_FAILSAFE');
        assert.equal(err.value, bad);
      }
    });
  });

  describe('policies', () => {
    it('ordered by tier order, then policy order (missing last), then name', () => {
      const rs = compile(
        [
          eth0(),
          tier('early', 10),
          tier('late', 2_000_000),
          gnp('no-order', {}, [{ action: 'Deny' }]),
          gnp('b-order-5', { order: 5 }, [{ action: 'Deny' }]),
          gnp('a-order-5', { order: 5 }, [{ action: 'Deny' }]),
          gnp('order-1', { order: 1 }, [{ action: 'Deny' }]),
          gnp('early-one', { tier: 'early', order: 100 }, [{ action: 'Deny' }]),
          gnp('late-one', { tier: 'late', order: 0 }, [{ action: 'Deny' }]),
        ],
        'node1',
      );
      assert.deepEqual(chainText(rs, 'hep-eth0-hep').slice(2), [
        'counter jump hep-eth0-hep/early comment "tier=early"',
        'counter jump hep-eth0-hep/default comment "tier=default"',
        'counter jump hep-eth0-hep/late comment "tier=late"',
      ]);
      assert.deepEqual(
        (rs.rules.get('hep-eth0-hep/default') ?? []).map((r) => r.comment),
        ['order-1', 'a-order-5', 'b-order-5', 'no-order'].map((p) => `policy=${p} rule=0 action=Deny`),
      );
    });

    it('only pre-DNAT ingress policies whose selector matches the endpoint apply', () => {
      const rs = compile(
        [
          eth0({ host: 'a', role: 'edge' }),
          gnp('matches', { selector: "role == 'edge'" }, [{ action: 'Deny' }]),
          gnp('other-role', { selector: "role == 'core'" }, [{ action: 'Deny' }]),
          gnp('not-prednat', { preDNAT: false }, [{ action: 'Deny' }]),
          gnp('untracked', { preDNAT: false, doNotTrack: true }, [{ action: 'Deny' }]),
          gnp('egress-only', { types: ['Egress'], ingress: undefined, egress: [{ action: 'Deny' }] }),
        ],
        'node1',
      );
      assert.deepEqual([...rs.rules.values()].flat().filter((r) => r.comment?.startsWith('policy=')).map((r) => r.comment), [
        'policy=matches rule=0 action=Deny',
      ]);
    });

    it('Allow accepts, Deny drops, Pass returns from the tier chain, Log logs naming the policy and goes on', () => {
      const rs = compile(
        [eth0(), gnp('acts', {}, [{ action: 'Allow' }, { action: 'Deny' }, { action: 'Pass' }, { action: 'Log' }])],
        'node1',
      );
      assert.deepEqual(chainText(rs, 'hep-eth0-hep/default'), [
        'counter accept comment "policy=acts rule=0 action=Allow"',
        'counter drop comment "policy=acts rule=1 action=Deny"',
        'counter return comment "policy=acts rule=2 action=Pass"',
        'counter log prefix "flockguard policy=acts rule=3: " comment "policy=acts rule=3 action=Log"',
      ]);
    });

    it('a policy in two endpoints\' chains compiles the same rules into each', () => {
      const rs = compile([eth0(), hep('star', { interfaceName: '*' }, { host: 'a' }), gnp('p', {}, [{ action: 'Deny', protocol: 'TCP' }])], 'node1');
      assert.deepEqual(chainText(rs, 'hep-eth0-hep/default'), chainText(rs, 'hep-star/default'));
    });
  });

  describe('rule matches', () => {
    /** The rule texts of one Calico rule, without comments and with set hashes as <h>. */
    const one = (rule: CalicoRule, extra: Resource[] = []) =>
      chainText(compile([eth0(), gnp('p', {}, [rule]), ...extra], 'node1'), 'hep-eth0-hep/default').map((t) =>
        t.replace(/ comment .*$/, '').replace(/@(\w+)-[0-9a-f]{8}/g, '@$1-<h>'),
      );

    it('a port always carries its protocol; several ports become one set lookup', () => {
      assert.deepEqual(one({ action: 'Allow', protocol: 'TCP', destination: { ports: [443] } }), ['meta l4proto 6 th dport 443 counter accept']);
      assert.deepEqual(one({ action: 'Allow', protocol: 'UDP', destination: { ports: ['1000:2000'] } }), ['meta l4proto 17 th dport 1000-2000 counter accept']);
      const rs = compile([eth0(), gnp('p', {}, [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80, 443, 81, '8000:8080'] } }])], 'node1');
      assert.match(chainText(rs, 'hep-eth0-hep/default')[0], /^meta l4proto 6 th dport @port-[0-9a-f]{8} counter accept/);
      const set = rs.sets.find((s) => s.name.startsWith('port-'));
      assert.equal(renderRuleset(rs).includes('elements = { 80-81, 443, 8000-8080 }'), true, 'adjacent ports merged');
      assert.ok(set && set.keyType === 13);
    });

    it('ports without a protocol are refused', () => {
      const err = compileErr(() => compile([eth0(), gnp('p', {}, [{ action: 'Allow', destination: { ports: [80] } }])], 'node1'));
      assert.equal(err.code, 'PORTS_WITHOUT_PROTOCOL');
      assert.equal(err.object, 'GlobalNetworkPolicy/p');
      assert.equal(err.field, 'spec.ingress[0].destination.ports');
    });

    it('negations: notNets, notPorts, notProtocol, notICMP', () => {
      assert.deepEqual(one({ action: 'Deny', protocol: 'TCP', source: { notNets: ['10.0.0.0/8'] }, destination: { notPorts: [22, '6000:6100'] } }), [
        'meta nfproto ipv4 meta l4proto 6 ip saddr != 10.0.0.0/8 th dport != @port-<h> counter drop',
        'meta nfproto ipv6 meta l4proto 6 th dport != @port-<h> counter drop',
      ]);
      assert.deepEqual(one({ action: 'Deny', notProtocol: 'UDP' }), ['meta l4proto != 17 counter drop']);
      assert.deepEqual(one({ action: 'Deny', protocol: 'ICMP', notICMP: { type: 8 } }), ['meta nfproto ipv4 meta l4proto 1 @th,0,8 != 0x08 counter drop']);
      assert.deepEqual(one({ action: 'Deny', protocol: 'ICMP', notICMP: { type: 8, code: 0 } }), [
        'meta nfproto ipv4 meta l4proto 1 @th,0,8 != 0x08 counter drop',
        'meta nfproto ipv4 meta l4proto 1 @th,0,8 0x08 @th,8,8 != 0x00 counter drop',
      ]);
      assert.deepEqual(one({ action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128, code: 0 } }), ['meta nfproto ipv6 meta l4proto 58 @th,0,16 0x8000 counter accept']);
    });

    it('IPv4 and IPv6 apart: ipVersion, single-family nets, mixed nets', () => {
      assert.deepEqual(one({ action: 'Allow', ipVersion: 6 }), ['meta nfproto ipv6 counter accept']);
      assert.deepEqual(one({ action: 'Allow', source: { nets: ['192.168.0.0/16'] } }), ['meta nfproto ipv4 ip saddr 192.168.0.0/16 counter accept']);
      assert.deepEqual(one({ action: 'Allow', source: { nets: ['192.168.0.0/16', 'fd00::/8'] } }), [
        'meta nfproto ipv4 ip saddr 192.168.0.0/16 counter accept',
        'meta nfproto ipv6 ip6 saddr fd00:0:0:0:0:0:0:0/8 counter accept',
      ]);
      assert.deepEqual(one({ action: 'Allow', ipVersion: 4, source: { nets: ['fd00::/8'] } }), [], 'no IPv4 net: cannot match');
      assert.deepEqual(one({ action: 'Allow', protocol: 'ICMP', ipVersion: 6 }), [], 'ICMP is IPv4 only');
    });

    it('overlapping and adjacent nets merge; many nets become a named interval set', () => {
      const rs = compile(
        [eth0(), gnp('p', {}, [{ action: 'Allow', source: { nets: ['10.0.0.0/24', '10.0.1.0/24', '10.0.0.128/25', '172.16.0.0/12'] } }])],
        'node1',
      );
      const text = renderRuleset(rs);
      assert.match(text, /ip saddr @net4-[0-9a-f]{8}/);
      assert.match(text, /elements = \{ 10\.0\.0\.0-10\.0\.1\.255, 172\.16\.0\.0-172\.31\.255\.255 \}/);
      assert.deepEqual(one({ action: 'Allow', source: { nets: ['10.0.0.0/25', '10.0.0.128/25'] } }), ['meta nfproto ipv4 ip saddr 10.0.0.0/24 counter accept']);
    });

    it('selectors become named sets of HostEndpoint expectedIPs and GlobalNetworkSet nets, prefixes and single addresses apart', () => {
      const extra = [
        hep('peer', { node: 'node2', interfaceName: 'eth0', expectedIPs: ['10.2.0.5', 'fd00::5'] }, { role: 'peer' }),
        gns('peers-net', ['10.3.0.0/16', '10.3.1.7', '10.2.0.5'], { role: 'peer' }),
        gns('unrelated', ['10.4.0.0/16'], { role: 'other' }),
      ];
      const rs = compile([eth0(), gnp('p', {}, [{ action: 'Allow', source: { selector: "role == 'peer'" } }]), ...extra], 'node1');
      const text = renderRuleset(rs);
      const rules = chainText(rs, 'hep-eth0-hep/default').map((t) => t.replace(/ comment .*$/, ''));
      assert.equal(rules.length, 3);
      assert.match(rules[0], /^meta nfproto ipv4 ip saddr @sel4-([0-9a-f]{8}) counter accept$/);
      assert.match(rules[1], /^meta nfproto ipv4 ip saddr @host4-([0-9a-f]{8}) counter accept$/);
      assert.match(rules[2], /^meta nfproto ipv6 ip6 saddr @host6-([0-9a-f]{8}) counter accept$/);
      assert.match(text, /set sel4-\w+ \{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tcomment "selector role == 'peer'"\n\t\telements = \{ 10\.3\.0\.0-10\.3\.255\.255 \}/);
      assert.match(text, /set host4-\w+ \{\n\t\ttype ipv4_addr\n\t\tcomment "selector role == 'peer'"\n\t\telements = \{ 10\.2\.0\.5 \}/, '10.3.1.7 is inside 10.3.0.0/16; duplicates once');
      assert.ok(!text.includes('10.4.0.0'), 'unselected network sets stay out');
    });

    it('a selector that selects nothing matches nothing; a notSelector that selects nothing excludes nothing', () => {
      assert.deepEqual(one({ action: 'Allow', source: { selector: "role == 'ghost'" } }), []);
      assert.deepEqual(one({ action: 'Allow', protocol: 'TCP', source: { notSelector: "role == 'ghost'" } }), [
        'meta nfproto ipv4 meta l4proto 6 counter accept',
        'meta nfproto ipv6 meta l4proto 6 counter accept',
      ]);
    });

    it('selector set names follow the selector, not its members, so a network set update is an element change', () => {
      const build = (nets: string[]) =>
        compile([eth0(), gns('s', nets, { k: 'v' }), gnp('p', {}, [{ action: 'Deny', source: { selector: "k == 'v'" } }])], 'node1');
      const a = build(['10.0.0.0/8']);
      const b = build(['10.0.0.0/8', '192.168.0.0/16']);
      assert.deepEqual(a.rules, b.rules);
      assert.deepEqual(a.sets.map((s) => s.name), b.sets.map((s) => s.name));
      assert.notDeepEqual(a.sets[0].elements, b.sets[0].elements);
    });

    it('named ports resolve to (address, protocol, port) of the selected HostEndpoints that declare them', () => {
      const web = hep('web', { node: 'node2', interfaceName: 'eth0', expectedIPs: ['10.5.0.1'], ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }, { app: 'web' });
      const udpHttp = hep('odd', { node: 'node2', interfaceName: 'eth0', expectedIPs: ['10.5.0.2'], ports: [{ name: 'http', protocol: 'UDP', port: 9999 }] }, { app: 'web' });
      const rs = compile([eth0(), web, udpHttp, gnp('p', {}, [{ action: 'Allow', protocol: 'TCP', destination: { selector: "app == 'web'", ports: ['http'] } }])], 'node1');
      const rules = chainText(rs, 'hep-eth0-hep/default');
      assert.equal(rules.length, 1);
      assert.match(rules[0], /^meta nfproto ipv4 meta l4proto 6 ip daddr @host4-\w+ ip daddr \. meta l4proto \. th dport @np4-\w+ counter accept/);
      assert.match(renderRuleset(rs), /type ipv4_addr \. inet_proto \. inet_service\n.*\n\t\telements = \{ 10\.5\.0\.1 \. 6 \. 8080 \}/);
    });
  });

  describe('determinism and errors', () => {
    it('the same input gives the same output, whatever the resource order', () => {
      const input = representative();
      const a = compile(input, 'node1');
      const b = compile([...input].reverse(), 'node1');
      assert.deepEqual(a, b);
      assert.equal(renderRuleset(a), renderRuleset(compile(input, 'node1')));
    });

    it('bad values name the resource and field', () => {
      const err = compileErr(() =>
        compile([eth0(), gns('g', ['10.0.0.0/8', '10.0.0.300/32'], { k: 'v' }), gnp('p', {}, [{ action: 'Deny', source: { selector: "k == 'v'" } }])], 'node1'),
      );
      assert.equal(err.code, 'BAD_CIDR');
      assert.equal(err.object, 'GlobalNetworkSet/g');
      assert.equal(err.field, 'spec.nets[1]');
      const sel = compileErr(() => compile([eth0(), gnp('p', { selector: 'a ==' })], 'node1'));
      assert.equal(sel.code, 'BAD_SELECTOR');
      assert.equal(sel.field, 'spec.selector');
      const ifname = compileErr(() => compile([hep('long', { interfaceName: 'a-very-long-ifname' })], 'node1'));
      assert.equal(ifname.code, 'BAD_INTERFACE');
      assert.equal(ifname.object, 'HostEndpoint/long');
      const proto = compileErr(() => compile([eth0(), gnp('p', {}, [{ action: 'Deny', protocol: 'GRE' }])], 'node1'));
      assert.equal(proto.code, 'BAD_PROTOCOL');
      assert.equal(proto.field, 'spec.ingress[0].protocol');
    });
  });
});
