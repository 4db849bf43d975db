// Verdicts on real packets: the compiled table is loaded through our netlink client into this test
// run's namespace, a client namespace connects over a veth pair, and both the connect result and
// the per-rule counters (found by the rule comments) show which rule decided.
import assert from 'node:assert/strict';
import { compile } from '../../src/compiler';
import { Resource } from '../../src/policy/model';
import { nft } from '../support/kernel';
import { gnp, gns, hep, tier } from './fixtures';
import { PacketLab } from './lab';
import { loadViaNetlink } from './load';
import { flushRuleset as flushOwnRuleset } from '../support/kernel';
import { renderRuleset } from './render';

/** Packets counted per rule comment, summed over the table's chains. */
function countersByComment(): Map<string, number> {
  const doc = JSON.parse(nft(['-j', 'list', 'table', 'inet', 'flockguard'])) as { nftables: Array<Record<string, unknown>> };
  const out = new Map<string, number>();
  for (const item of doc.nftables) {
    const rule = item.rule as { comment?: string; expr: Array<Record<string, { packets?: number }>> } | undefined;
    if (!rule?.comment) continue;
    const packets = rule.expr.find((e) => e.counter)?.counter?.packets ?? 0;
    out.set(rule.comment, (out.get(rule.comment) ?? 0) + packets);
  }
  return out;
}

describe('compiled policy on real packets @kernel', function () {
  this.timeout(60000);
  const lab = new PacketLab();
  const ports = [22, 80, 81, 82, 8080];

  before(async () => {
    flushOwnRuleset();
    await lab.open(ports);
  });
  after(async () => {
    await lab.close();
    flushOwnRuleset();
  });

  async function apply(resources: Resource[]): Promise<void> {
    flushOwnRuleset();
    await loadViaNetlink(compile(resources, 'node1'));
  }

  const onLab = (): Resource => hep('lab', { interfaceName: lab.serverIf, expectedIPs: [lab.server4] }, { host: 'lab' });

  it('with no HostEndpoint nothing is filtered', async () => {
    await apply([gnp('deny-all', { order: 1 }, [{ action: 'Deny' }])]);
    assert.equal(await lab.connects(81), true);
  });

  it('Allow accepts, Deny drops, failsafe tcp:22 wins over a deny-all', async () => {
    await apply([
      onLab(),
      gnp('allow-80', { order: 1 }, [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }]),
      gnp('deny-all', { order: 2 }, [{ action: 'Deny' }]),
    ]);
    assert.equal(await lab.connects(80), true);
    assert.equal(await lab.connects(81), false);
    assert.equal(await lab.connects(22), true);
    const c = countersByComment();
    assert.ok((c.get('policy=allow-80 rule=0 action=Allow') ?? 0) >= 1);
    assert.ok((c.get('policy=deny-all rule=0 action=Deny') ?? 0) >= 1);
    assert.ok((c.get('failsafe tcp:22') ?? 0) >= 1);
  });

  it('a packet no policy decides goes on (no default drop)', async () => {
    await apply([onLab(), gnp('deny-81', {}, [{ action: 'Deny', protocol: 'TCP', destination: { ports: [81] } }])]);
    assert.equal(await lab.connects(82), true);
    assert.equal(await lab.connects(81), false);
  });

  it('Log counts and goes on to the next rule', async () => {
    await apply([
      onLab(),
      gnp('log-then-deny', {}, [
        { action: 'Log', protocol: 'TCP', destination: { ports: [81] } },
        { action: 'Deny', protocol: 'TCP', destination: { ports: [81] } },
      ]),
    ]);
    assert.equal(await lab.connects(81), false);
    const c = countersByComment();
    assert.ok((c.get('policy=log-then-deny rule=0 action=Log') ?? 0) >= 1, 'the log rule matched');
    assert.ok((c.get('policy=log-then-deny rule=1 action=Deny') ?? 0) >= 1, 'and the next rule decided');
  });

  it('Pass skips the rest of its tier; later tiers still decide', async () => {
    await apply([
      onLab(),
      tier('first', 10),
      gnp('pass-80', { tier: 'first', order: 1 }, [{ action: 'Pass', protocol: 'TCP', destination: { ports: [80, 82] } }]),
      gnp('first-deny-all', { tier: 'first', order: 2 }, [{ action: 'Deny' }]),
      gnp('deny-82', {}, [{ action: 'Deny', protocol: 'TCP', destination: { ports: [82] } }]),
    ]);
    assert.equal(await lab.connects(80), true, 'passed, and nothing later denies it');
    assert.equal(await lab.connects(82), false, 'passed, then denied by the default tier');
    assert.equal(await lab.connects(81), false, 'not passed: the deny-all of the first tier');
  });

  it('a "*" endpoint covers interfaces with no endpoint of their own', async () => {
    const star = hep('star', { interfaceName: '*' }, { host: 'star' });
    const denyStar = gnp('deny-star', { selector: "host == 'star'" }, [{ action: 'Deny' }]);
    await apply([star, denyStar]);
    assert.equal(await lab.connects(80), false, 'the lab interface falls to the * endpoint');
    assert.equal(await lab.connects(22), true, 'failsafes apply on the * endpoint too');
    await apply([star, denyStar, onLab()]);
    assert.equal(await lab.connects(80), true, 'an endpoint of its own takes the interface away from *');
  });

  it('IPv6: deny-all still lets neighbour discovery through, failsafe and allow work over v6', async () => {
    await apply([
      onLab(),
      gnp('allow-8080-v6', { order: 1 }, [{ action: 'Allow', protocol: 'TCP', ipVersion: 6, destination: { ports: [8080] } }]),
      gnp('deny-all', { order: 2 }, [{ action: 'Deny' }]),
    ]);
    assert.equal(await lab.connects(22, 6), true, 'needs ND to resolve the server, then the failsafe');
    assert.equal(await lab.connects(8080, 6), true);
    assert.equal(await lab.connects(8080, 4), false, 'the allow is IPv6 only');
    assert.ok((countersByComment().get('icmpv6 neighbour discovery') ?? 0) >= 1);
  });

  it('an endpoint bound by expectedIPs only applies to packets addressed to those IPs', async () => {
    await apply([hep('byip', { expectedIPs: [lab.server4] }, { host: 'lab' }), gnp('deny-all', {}, [{ action: 'Deny' }])]);
    assert.equal(await lab.connects(80, 4), false);
    assert.equal(await lab.connects(80, 6), true, 'the IPv6 address is not one of the endpoint\'s');
  });

  it('source selectors match network set members; named ports resolve to the endpoint\'s port', async () => {
    const clients = gns('clients', [`${lab.client4}/32`, '198.51.100.0/24'], { role: 'client' });
    const web = hep('lab', { interfaceName: lab.serverIf, expectedIPs: [lab.server4], ports: [{ name: 'web', protocol: 'TCP', port: 8080 }] }, { host: 'lab' });
    await apply([
      web,
      clients,
      gnp('deny-clients-81', { order: 1 }, [{ action: 'Deny', protocol: 'TCP', source: { selector: "role == 'client'" }, destination: { ports: [81] } }]),
      gnp('allow-web', { order: 2 }, [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['web'] } }]),
      gnp('deny-all', { order: 3 }, [{ action: 'Deny' }]),
    ]);
    assert.equal(await lab.connects(81), false);
    assert.ok((countersByComment().get('policy=deny-clients-81 rule=0 action=Deny') ?? 0) >= 1);
    assert.equal(await lab.connects(8080), true, 'the named port web is 8080 on this endpoint');
    assert.equal(await lab.connects(80), false);
  });

  it('Allow ends only our chain: a later base chain on the same hook still sees the packet', async () => {
    await apply([onLab(), gnp('allow-all', {}, [{ action: 'Allow' }])]);
    nft(['-f', '-'], 'table inet later { chain pre { type filter hook prerouting priority -100; policy accept; tcp dport 82 drop; }; }\n');
    try {
      assert.equal(await lab.connects(80), true);
      assert.equal(await lab.connects(82), false, 'accepted by flockguard, dropped by the later chain');
      assert.ok((countersByComment().get('policy=allow-all rule=0 action=Allow') ?? 0) >= 2);
    } finally {
      nft(['delete', 'table', 'inet', 'later']);
    }
  });

  it('the table loaded by our netlink client lists exactly as nft\'s own load of the same text', async () => {
    const rs = compile(
      [onLab(), gnp('allow-80', {}, [{ action: 'Allow', protocol: 'TCP', source: { nets: ['10.0.0.0/8', '192.168.0.0/16'] }, destination: { ports: [80, 443] } }])],
      'node1',
    );
    flushOwnRuleset();
    await loadViaNetlink(rs);
    const ours = nft(['list', 'table', 'inet', 'flockguard']);
    flushOwnRuleset();
    nft(['-f', '-'], renderRuleset(rs));
    assert.equal(ours, nft(['list', 'table', 'inet', 'flockguard']));
  });
});
