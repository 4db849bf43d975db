// explain's answers for the four outcomes users ask about (allowed, denied, failsafe, nothing
// decided), on a compiled table: who decided, in which tier and endpoint, and the sentence that says
// a packet no pre-DNAT policy decided goes on to kube-proxy.
import assert from 'node:assert/strict';
import { ExplainRequest } from '../../src/api/service';
import { compile } from '../../src/compiler';
import { Resource } from '../../src/policy/model';
import { NO_POLICY_DECIDED, explainPacket, formatExplanation } from '../../src/troubleshoot/explain';
import { conntrackStateOf } from '../../src/troubleshoot/packet';
import { gnp, hep, tier } from '../compiler/fixtures';

const RESOURCES: Resource[] = [
  hep('web-eth0', { interfaceName: 'eth0', expectedIPs: ['10.0.0.1'] }, { host: 'web' }),
  tier('security', 10),
  gnp('block-bad', { tier: 'security', order: 1 }, [{ action: 'Deny', source: { nets: ['203.0.113.0/24'] } }, { action: 'Pass' }]),
  gnp('allow-web', { order: 10 }, [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80, 443] } }]),
  gnp('deny-smtp', { order: 20 }, [{ action: 'Deny', protocol: 'TCP', destination: { ports: [25] } }]),
];

const table = compile(RESOURCES, 'node1');
const req = (over: Partial<ExplainRequest>): ExplainRequest => ({ iif: 'eth0', src: '198.51.100.7', dst: '10.0.0.1', protocol: 'tcp', sport: 40000, dport: 80, ...over });

describe('explainPacket', () => {
  it('allowed: names policy, rule, tier and endpoint, and says the packet goes on to kube-proxy', () => {
    const e = explainPacket(table, req({}));
    assert.equal(e.verdict, 'accept');
    assert.deepEqual(e.decision, { kind: 'policy', verdict: 'accept', policy: 'allow-web', ruleIndex: 0, action: 'Allow', tier: 'default', hostEndpoint: 'web-eth0' });
    assert.match(e.summary, /^tcp 198\.51\.100\.7:40000 -> 10\.0\.0\.1:80 on eth0 \(ct state new\): accept by policy allow-web rule 0 \(Allow\) in tier default/);
    assert.match(e.summary, /kube-proxy's DNAT/);
    // The path shows the Pass in tier security before the Allow.
    assert.deepEqual(e.path.filter((s) => s.policy).map((s) => `${s.policy}/${s.ruleIndex}:${s.verdict}`), ['block-bad/1:return', 'allow-web/0:accept']);
  });

  it('denied in an earlier tier: the tier is the one the deny sits in', () => {
    const e = explainPacket(table, req({ src: '203.0.113.9' }));
    assert.equal(e.verdict, 'drop');
    assert.equal(e.decision.policy, 'block-bad');
    assert.equal(e.decision.tier, 'security');
    assert.match(e.summary, /DROP by policy block-bad rule 0 \(Deny\) in tier security \(host endpoint web-eth0\)$/);
    const d = explainPacket(table, req({ dport: 25 }));
    assert.deepEqual([d.verdict, d.decision.policy, d.decision.ruleIndex], ['drop', 'deny-smtp', 0]);
  });

  it('failsafe: tcp:22 is accepted before any policy, even from a denied source', () => {
    const e = explainPacket(table, req({ src: '203.0.113.9', dport: 22 }));
    assert.equal(e.verdict, 'accept');
    assert.deepEqual([e.decision.kind, e.decision.failsafe], ['failsafe', 'tcp:22']);
    assert.ok(!e.path.some((s) => s.policy), 'no policy rule may match before the failsafe');
  });

  it('no policy decided: endpoint applies but nothing matched, and no endpoint at all', () => {
    const e = explainPacket(table, req({ dport: 8080 }));
    assert.equal(e.verdict, 'accept');
    assert.equal(e.decision.kind, 'no-policy');
    assert.equal(e.decision.hostEndpoint, 'web-eth0');
    assert.ok(e.summary.includes(NO_POLICY_DECIDED));
    const other = explainPacket(table, req({ iif: 'eth1', dst: '10.0.0.2', dport: 25 }));
    assert.equal(other.decision.kind, 'no-policy');
    assert.equal(other.decision.hostEndpoint, undefined);
    assert.match(other.summary, /no host endpoint applies; no pre-DNAT policy decided/);
  });

  it('an ICMP echo reply nobody asked for is conntrack-invalid and dropped by the endpoint chain', () => {
    assert.equal(conntrackStateOf(4, 1, 0), 'invalid');
    assert.equal(conntrackStateOf(4, 1, 8), 'new');
    assert.equal(conntrackStateOf(6, 58, 135), 'untracked');
    const e = explainPacket(table, req({ protocol: 'icmp', icmpType: 0, sport: undefined, dport: undefined }));
    assert.equal(e.verdict, 'drop');
    assert.equal(e.decision.kind, 'conntrack');
    assert.equal(e.ctState, 'invalid');
  });

  it('human lines list each matching rule with its role and nft text', () => {
    const lines = formatExplanation(explainPacket(table, req({})));
    assert.ok(lines.some((l) => /prerouting: host endpoint web-eth0 .*iifname "eth0"/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /policy allow-web rule 0 \(Allow\): .*tcp dport \{ 80, 443 \}|policy allow-web rule 0 \(Allow\): .*dport/.test(l)), lines.join('\n'));
  });

  it('refuses a bad packet with a code, and an absent table', () => {
    assert.throws(() => explainPacket(table, req({ src: 'fd00::1' })), { code: 'EXPLAIN_BAD_PACKET' });
    assert.throws(() => explainPacket(table, req({ protocol: 'bogus' })), { code: 'EXPLAIN_BAD_PACKET' });
    assert.throws(() => explainPacket(undefined, req({})), { code: 'FAILED_PRECONDITION' });
  });
});
