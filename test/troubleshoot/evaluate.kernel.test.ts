// The evaluator against the kernel: random small policy sets are compiled, loaded into this test
// run's namespace, and random packets are sent over a veth pair so they really traverse prerouting.
// For every packet, the rules the model says matched must be exactly the rules whose kernel
// counters moved, and the model's verdict must be what happened to the packet (it reached, or did
// not reach, a chain after ours); the table dumped back from the kernel evaluates the same. A failure prints its seed: FLOCKGUARD_SEED=<seed> replays it.
import assert from 'node:assert/strict';
import { CompileError, compile } from '../../src/compiler';
import { NftClient } from '../../src/kernel';
import { Ruleset } from '../../src/nftables/model';
import { evaluate } from '../../src/troubleshoot/evaluate';
import { buildPacket } from '../../src/troubleshoot/packet';
import { loadViaNetlink } from '../compiler/load';
import { flushRuleset } from '../support/kernel';
import { Gen, packet, policySet, prng } from './generate';
import { loadObserver, sendAndObserve } from './oracle';
import { Wire, buildFrame } from './wire';

const POLICY_SETS = 40;
const PACKETS_PER_SET = 12;

describe('evaluate() equals the kernel on real packets @kernel', function () {
  this.timeout(300_000);
  const wire = new Wire();
  let client: NftClient;

  before(() => {
    flushRuleset();
    wire.open();
    client = NftClient.open();
  });
  after(() => {
    client?.close();
    wire.close();
    flushRuleset();
  });

  it(`${POLICY_SETS} random policy sets x ${PACKETS_PER_SET} packets: same matched rules, same verdict`, async () => {
    const seed = Number(process.env.FLOCKGUARD_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const g = new Gen(prng(seed));
    const seen = { accept: 0, drop: 0, policyDecided: 0, failsafe: 0, noDecision: 0 };
    for (let set = 0; set < POLICY_SETS; set++) {
      let table: Ruleset | undefined;
      let resources;
      while (!table) {
        resources = policySet(g, wire.rx);
        try {
          table = compile(resources, 'node1');
        } catch (err) {
          if (!(err instanceof CompileError)) throw err;
        }
      }
      flushRuleset();
      loadObserver(wire);
      await loadViaNetlink(table);
      // explain may also run on the table as dumped back (sets in the kernel's interval encoding).
      const live = (await client.dumpTable('inet', 'flockguard')).ruleset!;
      for (let p = 0; p < PACKETS_PER_SET; p++) {
        const spec = packet(g);
        const model = evaluate(table, buildPacket({ iifname: wire.rx, ...spec }));
        const kernel = await sendAndObserve(client, wire, buildFrame(wire, spec));
        const modelMatched = new Set(model.path.map((s) => `${s.chain}[${s.index}]`));
        const context: string = `seed ${seed}, set ${set}, packet ${JSON.stringify(spec)}\npolicies: ${JSON.stringify(resources)}`;
        assert.deepEqual([...modelMatched].sort(), [...kernel.matched].sort(), `matched rules differ (${context})`);
        assert.equal(model.verdict === 'accept', kernel.accepted, `verdict differs (${context})`);
        const fromLive = evaluate(live, buildPacket({ iifname: wire.rx, ...spec }));
        assert.deepEqual([fromLive.verdict, fromLive.path.map((s) => `${s.chain}[${s.index}]`)], [model.verdict, model.path.map((s) => `${s.chain}[${s.index}]`)], `dumped table differs (${context})`);
        seen[model.verdict]++;
        const by = model.decidedBy?.comment ?? '';
        if (by.startsWith('policy=')) seen.policyDecided++;
        else if (by.startsWith('failsafe')) seen.failsafe++;
        else if (!model.decidedBy) seen.noDecision++;
      }
    }
    // The generator must reach every kind of outcome, or the comparison proves little.
    for (const [k, n] of Object.entries(seen)) assert.ok(n > 0, `no packet ended as ${k} (seed ${seed}): ${JSON.stringify(seen)}`);
  });
});
