// `flockguard monitor`: changes to the flockguard table as the kernel announces them, one line per
// committed generation, naming who committed it (NFTA_GEN_PROC_PID / PROC_NAME of the NEWGEN that
// closes the transaction, nf_tables_api.c nf_tables_gen_notify) and what changed, with each rule
// named by its policy and rule through the comment.
import { ChangeEvent, StreamSink } from '../api/service';
import { GenerationEvent, MonitorEvent, NftMonitor } from '../kernel';
import { Chain, Family, NftSet, Rule } from '../nftables/model';
import { describeRole, ruleRole } from './comments';

export interface MonitorScope {
  family: Family;
  table: string;
}

const DEFAULT_SCOPE: MonitorScope = { family: 'inet', table: 'flockguard' };

/** A change event for one generation that touched our table, or undefined when it did not. */
export function generationChange(g: GenerationEvent, scope: MonitorScope = DEFAULT_SCOPE, now = new Date()): ChangeEvent | undefined {
  const ours = g.events.filter((e) => e.family === scope.family && e.table === scope.table);
  if (ours.length === 0) return undefined;
  const who = g.pid === process.pid ? `flockguard (pid ${g.pid})` : `pid ${g.pid} (${g.procName || '?'})`;
  return {
    time: now.toISOString(),
    type: 'ruleset',
    generation: g.id,
    message: `generation ${g.id} by ${who}: ${summarizeEvents(ours)}`,
  };
}

/** "add rule prerouting [policy deny-all rule 0 (Deny)], delete chain hep-x ...", capped for long transactions. */
export function summarizeEvents(events: readonly MonitorEvent[], max = 8): string {
  const parts = events.slice(0, max).map(describeEvent);
  if (events.length > max) parts.push(`... ${events.length - max} more change(s)`);
  return parts.join('; ');
}

export function describeEvent(e: MonitorEvent): string {
  const verb = e.op === 'new' ? 'add' : 'delete';
  switch (e.kind) {
    case 'table':
      return `${verb} table ${e.family} ${e.table}`;
    case 'chain':
      return `${verb} chain ${(e.object as Chain).name}`;
    case 'rule': {
      const r = e.object as Rule;
      const handle = r.handle !== undefined ? ` handle ${r.handle}` : '';
      return `${verb} rule ${r.chain}${handle} [${describeRole(ruleRole(r.comment))}]`;
    }
    case 'set':
      return `${verb} set ${(e.object as NftSet).name}`;
    case 'element': {
      const o = e.object as { set: string; elements: unknown[] };
      return `${verb} ${o.elements.length} element(s) of set ${o.set}`;
    }
  }
}

/** The line the CLI prints for a change event. */
export function formatChange(e: ChangeEvent): string {
  return `${e.time} ${e.type}${e.revision !== undefined ? ` revision ${e.revision}` : ''}: ${e.message}`;
}

/** What streamTableChanges needs of NftMonitor. */
export interface ChangeSource {
  on(event: 'generation', fn: (g: GenerationEvent) => void): this;
  on(event: 'resync', fn: (reason: string) => void): this;
  close(): void;
}

/**
 * The agent's monitor handler for kernel changes in one call: writes one event per generation that
 * touched our table (and one when events were lost) until `signal` aborts, then closes its socket.
 */
export function streamTableChanges(
  sink: StreamSink<ChangeEvent>,
  signal: AbortSignal,
  scope: MonitorScope = DEFAULT_SCOPE,
  open: () => ChangeSource = () => NftMonitor.open(),
): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  const monitor = open();
  let closed = false;
  monitor.on('generation', (g) => {
    const e = generationChange(g, scope);
    if (e && !closed) sink.write(e);
  });
  // Closing the socket reports itself as an error ("socket closed"): that is no lost event.
  monitor.on('resync', (reason) => {
    if (!closed) sink.write({ time: new Date().toISOString(), type: 'resync', message: `kernel events were lost (${reason}): changes may be missing here` });
  });
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => {
      closed = true;
      monitor.close();
      resolve();
    }, { once: true });
  });
}
