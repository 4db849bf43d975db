// trace inside the agent process, next to the reconciler that repairs drift in our table: the trace
// rule is committed by the agent's own pid, so the reconciler does not take it for drift, a policy
// change committed while the trace runs goes through, and when the trace ends the table is exactly
// the desired one again. (A trace rule added by another process would be repaired away: trace must
// run in the agent.)
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/agent/logger';
import { compile } from '../../src/compiler';
import { NftClient } from '../../src/kernel';
import { diff, Reconciler } from '../../src/reconciler';
import { TRACE_COMMENT_PREFIX } from '../../src/troubleshoot/comments';
import { runTrace } from '../../src/troubleshoot/trace';
import { gnp, hep } from '../compiler/fixtures';
import { flushRuleset, nft } from '../support/kernel';

function traceRules(): number {
  return nft(['list', 'table', 'inet', 'flockguard']).split('\n').filter((l) => l.includes(`comment "${TRACE_COMMENT_PREFIX}`)).length;
}

describe('trace next to the reconciler @kernel', function () {
  this.timeout(30_000);
  let rec: Reconciler | undefined;
  const quiet = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

  beforeEach(() => flushRuleset());
  afterEach(async () => {
    await rec?.stop();
    flushRuleset();
  });

  it('is not repaired away, survives a policy change, and leaves the desired table behind', async () => {
    rec = new Reconciler({ family: 'inet', table: 'flockguard', logger: quiet, resyncIntervalMs: 0, openClient: () => NftClient.open() });
    rec.start();
    const base = [hep('lab', { interfaceName: 'eth0' }, { host: 'lab' }), gnp('allow-web', { order: 1 }, [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }])];
    await rec.apply(compile(base, 'node1'), 1);
    const ac = new AbortController();
    const trace = runTrace({ dport: 80, timeoutMs: 20_000 }, { write: () => undefined }, ac.signal);
    for (let i = 0; i < 100 && traceRules() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(traceRules(), 3, 'the reconciler left the trace rules alone');
    assert.equal(rec.status().driftRepairs, 0);

    const changed = [...base, gnp('deny-all', { order: 2 }, [{ action: 'Deny' }])];
    await rec.apply(compile(changed, 'node1'), 2);
    assert.equal(traceRules(), 3, 'a commit during the trace keeps the trace rules');
    assert.match(nft(['list', 'table', 'inet', 'flockguard']), /comment "policy=deny-all rule=0 action=Deny"/);

    ac.abort();
    assert.deepEqual(await trace, { removed: true });
    assert.equal(traceRules(), 0);
    const { summary } = diff(compile(changed, 'node1'), await rec.readLive());
    assert.deepEqual(Object.values(summary).filter((n) => n !== 0), [], `the table is the desired one: ${JSON.stringify(summary)}`);
  });
});
