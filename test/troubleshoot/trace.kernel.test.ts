// trace on real packets: the temporary rule goes in, packets matching the filter are followed
// through our chains (named by policy and rule) and on into another table (a kube-proxy-like DNAT
// chain), packets outside the filter are not traced, and the rule is gone after a timeout, after an
// abort, and when installing fails.
import assert from 'node:assert/strict';
import { compile } from '../../src/compiler';
import { NftClient, NftTracer } from '../../src/kernel';
import { TRACE_COMMENT_PREFIX } from '../../src/troubleshoot/comments';
import { TraceRecord, TraceSession, runTrace, startTrace } from '../../src/troubleshoot/trace';
import { TraceLine } from '../../src/api/service';
import { loadViaNetlink } from '../compiler/load';
import { gnp, hep } from '../compiler/fixtures';
import { flushRuleset, nft, nftLoad } from '../support/kernel';
import { Wire, buildFrame } from './wire';

function traceRulesInKernel(): string[] {
  const doc = JSON.parse(nft(['-j', 'list', 'table', 'inet', 'flockguard'])) as { nftables: Array<{ rule?: { comment?: string } }> };
  return doc.nftables.map((i) => i.rule?.comment).filter((c): c is string => !!c && c.startsWith(TRACE_COMMENT_PREFIX));
}

async function collect(session: TraceSession): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of session) out.push(r);
  return out;
}

describe('trace on real packets @kernel', function () {
  this.timeout(60_000);
  const wire = new Wire();
  let client: NftClient;

  before(async () => {
    flushRuleset();
    wire.open();
    client = NftClient.open();
    await loadViaNetlink(compile([
      hep('lab', { interfaceName: wire.rx, expectedIPs: ['10.9.0.1'] }, { host: 'lab' }),
      gnp('allow-web', { order: 1 }, [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }]),
      gnp('deny-all', { order: 2 }, [{ action: 'Deny' }]),
    ], 'node1'));
    nftLoad(`table ip kube-proxy {
  chain nat-prerouting { type nat hook prerouting priority -100; policy accept; jump services; }
  chain services { ip daddr 10.9.0.1 tcp dport 80 counter dnat to 10.9.0.2:8080; }
}`);
  });
  after(() => {
    client?.close();
    wire.close();
    flushRuleset();
  });

  it('follows matching packets through policy rules and kube-proxy DNAT, then removes its rule at the timeout', async () => {
    const session = await startTrace(client, () => NftTracer.open(), { src: '10.0.0.5', iif: wire.rx }, { timeoutMs: 1500 });
    assert.equal(traceRulesInKernel().length, 1, 'the trace rule is installed');
    const records = collect(session);
    await wire.send(buildFrame(wire, { src: '10.0.0.5', dst: '10.9.0.1', proto: 'tcp', sport: 41000, dport: 80 }));
    await wire.send(buildFrame(wire, { src: '10.0.0.5', dst: '10.9.0.1', proto: 'tcp', sport: 41001, dport: 81 }));
    await wire.send(buildFrame(wire, { src: '10.0.0.6', dst: '10.9.0.1', proto: 'tcp', sport: 41002, dport: 81 }));
    const got = await records;
    const end = await session.stop();
    assert.deepEqual(end, { removed: true });
    assert.deepEqual(traceRulesInKernel(), [], 'the trace rule is gone after the timeout');

    const packets = got.filter((r) => r.kind === 'packet');
    assert.equal(packets.length, 2, got.map((r) => r.text).join('\n'));
    assert.ok(packets.every((p) => p.text.includes('ip saddr 10.0.0.5')), 'only the filtered source is traced');
    const ids = packets.map((p) => p.traceId);
    const of = (id: string): TraceRecord[] => got.filter((r) => r.traceId === id && r.kind !== 'packet');

    const allowed = of(ids[0]);
    const decision = allowed.find((r) => r.policy !== undefined);
    assert.deepEqual([decision?.policy, decision?.ruleIndex, decision?.verdict], ['allow-web', 0, 'accept']);
    assert.ok(allowed.some((r) => r.chain === 'ip kube-proxy nat-prerouting' && r.verdict === 'jump services'), allowed.map((r) => `${r.chain}: ${r.text}`).join('\n'));
    assert.ok(allowed.some((r) => r.chain === 'ip kube-proxy services' && r.kind === 'rule' && r.text.includes('ip daddr 10.9.0.1 tcp dport 80')), allowed.map((r) => `${r.chain}: ${r.text}`).join('\n'));

    const denied = of(ids[1]);
    const last = denied[denied.length - 1];
    assert.deepEqual([last.policy, last.ruleIndex, last.verdict], ['deny-all', 0, 'drop']);
    assert.ok(!denied.some((r) => r.table === 'ip kube-proxy'), 'a dropped packet never reaches kube-proxy');
    assert.equal(got[got.length - 1].kind, 'end');
  });

  it('runTrace (own client): removes its rule when the caller aborts, and the stream ends', async () => {
    const ac = new AbortController();
    const lines: TraceLine[] = [];
    const run = runTrace({ dport: 22, timeoutMs: 60_000 }, { write: (l) => lines.push(l) }, ac.signal);
    for (let i = 0; i < 100 && traceRulesInKernel().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(traceRulesInKernel().length, 3, 'one trace rule per transport protocol for --dport');
    await wire.send(buildFrame(wire, { src: '10.0.0.7', dst: '10.9.0.1', proto: 'tcp', sport: 42000, dport: 22 }));
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    const end = await run;
    assert.deepEqual(end, { removed: true });
    assert.deepEqual(traceRulesInKernel(), []);
    assert.ok(lines.some((l) => l.text.startsWith('rule failsafe tcp:22') && l.verdict === 'accept'), lines.map((l) => l.text).join('\n'));
  });

  it('a bad filter or a missing table installs nothing and leaves no socket open', async () => {
    let opened = 0;
    let closed = 0;
    const open = (): NftTracer => {
      opened++;
      const t = NftTracer.open();
      const close = t.close.bind(t);
      t.close = () => {
        closed++;
        close();
      };
      return t;
    };
    await assert.rejects(startTrace(client, open, { src: '10.0.0.1', dst: 'fd00::1' }, { timeoutMs: 1000 }), { code: 'TRACE_BAD_FILTER' });
    await assert.rejects(startTrace(client, open, { dport: 70000 }, { timeoutMs: 1000 }), { code: 'TRACE_BAD_FILTER' });
    await assert.rejects(startTrace(client, open, {}, { timeoutMs: 1000, table: 'absent' }), { code: 'TRACE_NO_TABLE' });
    assert.equal(opened, closed, 'every tracer opened was closed');
    assert.deepEqual(traceRulesInKernel(), []);
  });
});
