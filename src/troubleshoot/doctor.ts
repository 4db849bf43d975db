// `flockguard doctor`: is everything flockguard depends on in place on this node? It lists every base
// chain on the prerouting hook, in all tables, in the order the kernel runs them (lowest priority
// first, across tables; equal priorities run in an undefined order: nft(8) "OVERALL EVALUATION OF
// THE RULESET", calico-prednat.md 7), shows where our chain sits relative to conntrack (-200) and
// kube-proxy (-110, -100), probes the kernel with the very expressions the compiler emits, and
// checks the socket, the store, the sync state and the drift history.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { AgentStatus } from '../api/service';
import { compile } from '../compiler';
import { NftClient, Transaction } from '../kernel';
import { Family, Ruleset } from '../nftables/model';
import { API_VERSION, Resource } from '../policy/model';
import { TRACE_COMMENT_PREFIX } from './comments';

export interface DoctorOptions {
  socketPath?: string;
  dbPath?: string;
  store?: { schemaVersion(): number };
  status?: AgentStatus;
  family?: Family;
  table?: string;
  /** Commit a throwaway table with the compiler's expressions (default true). */
  probe?: boolean;
}

export interface HookChain {
  family: Family;
  table: string;
  chain: string;
  type: string;
  priority: number;
  policy: string;
  ours: boolean;
  /** What the chain is, when we know it: "kube-proxy DNAT", "Calico pre-DNAT (mangle)". */
  role?: string;
}

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DoctorReport {
  chains: HookChain[];
  checks: DoctorCheck[];
  warnings: string[];
  ok: boolean;
}

/** The conntrack hook's priority (NF_IP_PRI_CONNTRACK): `ct state` is known only to later chains. */
export const CONNTRACK_PRIORITY = -200;
const SCRATCH_PREFIX = 'flockguard-doctor-';

export async function doctor(client: NftClient, options: DoctorOptions = {}): Promise<DoctorReport> {
  const family = options.family ?? 'inet';
  const table = options.table ?? 'flockguard';
  const checks: DoctorCheck[] = [];
  const warnings: string[] = [];
  let chains: HookChain[] = [];
  let tables: Ruleset[] | undefined;
  try {
    const dump = await client.dumpRuleset();
    tables = dump.tables;
    checks.push({ name: 'nf_tables', ok: true, detail: `nf_tables answers: ${tables.length} table(s), generation ${dump.generation}` });
  } catch (err) {
    checks.push({ name: 'nf_tables', ok: false, detail: `cannot read the ruleset: ${(err as Error).message}` });
  }
  if (tables) {
    chains = preroutingChains(tables, family, table);
    const ours = tables.find((t) => t.table.family === family && t.table.name === table);
    checks.push(tableCheck(ours, family, table));
    checks.push(...orderChecks(chains, warnings));
    checks.push(traceRuleCheck(ours));
  }
  if (options.probe !== false) checks.push(await probeKernel(client));
  if (options.socketPath !== undefined) checks.push(await socketCheck(options.socketPath));
  if (options.dbPath !== undefined || options.store) checks.push(await storeCheck(options.dbPath, options.store));
  if (options.status) checks.push(...statusChecks(options.status, warnings));
  return { chains, checks, warnings, ok: checks.every((c) => c.ok) };
}

/** Base chains on prerouting of the families that see IP packets, in the kernel's run order. */
export function preroutingChains(tables: readonly Ruleset[], family: Family, table: string): HookChain[] {
  const out: HookChain[] = [];
  for (const rs of tables) {
    if (!['ip', 'ip6', 'inet'].includes(rs.table.family)) continue;
    for (const c of rs.chains) {
      if (!c.base || c.base.hook !== 'prerouting') continue;
      const ours = rs.table.family === family && rs.table.name === table;
      const hc: HookChain = { family: rs.table.family, table: rs.table.name, chain: c.name, type: c.base.type, priority: c.base.priority, policy: c.base.policy, ours };
      const role = ours ? 'flockguard pre-DNAT policy' : knownRole(hc);
      if (role) hc.role = role;
      out.push(hc);
    }
  }
  // Stable: equal priorities keep dump order, which says nothing about the kernel's order.
  return out.sort((a, b) => a.priority - b.priority);
}

function knownRole(c: HookChain): string | undefined {
  if (c.table === 'kube-proxy') return c.type === 'nat' ? 'kube-proxy DNAT' : 'kube-proxy firewall (pre-DNAT)';
  if (c.table === 'calico') return c.chain.startsWith('mangle') ? 'Calico pre-DNAT (mangle)' : c.chain.startsWith('nat') ? 'Calico NAT' : 'Calico';
  if (c.table === 'mangle' && c.chain === 'PREROUTING') return 'iptables-nft mangle (Calico iptables pre-DNAT runs here)';
  if (c.table === 'nat' && c.chain === 'PREROUTING') return 'iptables-nft nat (kube-proxy iptables DNAT)';
  if (c.type === 'nat') return 'DNAT';
  return undefined;
}

/** Whether two families' chains see the same packets (inet sees both IPv4 and IPv6). */
function overlaps(a: Family, b: Family): boolean {
  return a === b || a === 'inet' || b === 'inet';
}

function tableCheck(ours: Ruleset | undefined, family: Family, table: string): DoctorCheck {
  const base = ours?.chains.find((c) => c.base?.hook === 'prerouting');
  if (!ours) return { name: 'table', ok: false, detail: `table ${family} ${table} is absent: the agent is not running or has not applied yet` };
  if (!base) return { name: 'table', ok: false, detail: `table ${family} ${table} has no prerouting base chain` };
  const rules = [...ours.rules.values()].reduce((n, r) => n + r.length, 0);
  return { name: 'table', ok: true, detail: `table ${family} ${table}: ${ours.chains.length} chain(s), ${rules} rule(s), ${ours.sets.length} set(s); base chain ${base.name} priority ${base.base!.priority}` };
}

function orderChecks(chains: readonly HookChain[], warnings: string[]): DoctorCheck[] {
  const ours = chains.filter((c) => c.ours);
  if (ours.length === 0) return [];
  const checks: DoctorCheck[] = [];
  for (const o of ours) {
    const problems: string[] = [];
    for (const c of chains) {
      if (c.ours || !overlaps(c.family, o.family)) continue;
      if (c.priority === o.priority) {
        const w = `${c.family} ${c.table} ${c.chain}${c.role ? ` (${c.role})` : ''} has priority ${c.priority}, the same as ${o.family} ${o.table} ${o.chain}: the kernel's order between them is undefined; give flockguard a distinct priority (agent option --priority)`;
        warnings.push(w);
        problems.push(`equal priority with ${c.family} ${c.table} ${c.chain}`);
      }
      if (c.type === 'nat' && c.priority <= o.priority) {
        const w = `${c.family} ${c.table} ${c.chain} (DNAT) runs at ${c.priority}, not after flockguard (${o.priority}): pre-DNAT policy would see translated destinations`;
        warnings.push(w);
        problems.push(`DNAT chain ${c.table} ${c.chain} at or before ours`);
      }
    }
    if (o.priority <= CONNTRACK_PRIORITY) {
      warnings.push(`flockguard's chain runs at ${o.priority}, not after conntrack (${CONNTRACK_PRIORITY}): ct state matches cannot work`);
      problems.push('not after conntrack');
    }
    const kubeDnat = chains.find((c) => c.table === 'kube-proxy' && c.type === 'nat');
    const place = kubeDnat ? `, ${kubeDnat.priority > o.priority ? 'before' : 'NOT before'} kube-proxy's DNAT (${kubeDnat.priority})` : '';
    checks.push({
      name: 'hook-order',
      ok: problems.length === 0,
      detail: problems.length === 0
        ? `${o.family} ${o.table} ${o.chain} runs at ${o.priority}: after conntrack (${CONNTRACK_PRIORITY})${place}, no other chain shares its priority`
        : `${o.family} ${o.table} ${o.chain} at ${o.priority}: ${problems.join('; ')}`,
    });
  }
  return checks;
}

function traceRuleCheck(ours: Ruleset | undefined): DoctorCheck {
  const left = [...(ours?.rules.values() ?? [])].flat().filter((r) => r.comment?.startsWith(TRACE_COMMENT_PREFIX));
  if (left.length === 0) return { name: 'trace-rules', ok: true, detail: 'no trace rule is installed' };
  return {
    name: 'trace-rules',
    ok: false,
    detail: `${left.length} trace rule(s) installed (${[...new Set(left.map((r) => r.comment))].join(', ')}): a trace is running, or one ended without cleaning up (the agent's next full sync removes them)`,
  };
}

/**
 * Commits, into a scratch table of our own (never hooked, deleted straight after), the table the
 * compiler makes of a policy set that uses every construct: interval and concatenated sets, ct
 * state, iifname, prefixes, port ranges, ICMP, log, counters and verdicts. The kernel loads the
 * expression modules on the way (nf_tables_newrule -> nft_expr_type_request_module), so a missing
 * one fails here, named, and not in the middle of an apply.
 */
export async function probeKernel(client: NftClient): Promise<DoctorCheck> {
  const name = `${SCRATCH_PREFIX}${randomBytes(4).toString('hex')}`;
  const compiled = compile(PROBE_RESOURCES, 'doctor', { tableName: name });
  // No hook: the scratch table must never see a packet.
  const chains = compiled.chains.map((c) => ({ ...c, base: undefined }));
  const tx = new Transaction().addTable(compiled.table);
  for (const s of compiled.sets) tx.addSet(s);
  for (const c of chains) tx.addChain(c);
  let rules = 0;
  for (const c of chains) {
    for (const r of compiled.rules.get(c.name) ?? []) {
      tx.addRule(r);
      rules++;
    }
  }
  tx.addRule({ family: 'inet', table: name, chain: chains[0].name, exprs: [{ type: 'immediate', dreg: 1, data: Buffer.from([1]) }, { type: 'meta', key: 'nftrace', sreg: 1 }] });
  try {
    await client.commit(tx);
    return { name: 'kernel-features', ok: true, detail: `the kernel accepted ${rules + 1} rules and ${compiled.sets.length} sets using every expression flockguard emits` };
  } catch (err) {
    return { name: 'kernel-features', ok: false, detail: `the kernel refused the compiler's expressions: ${(err as Error).message}` };
  } finally {
    await client.commit(new Transaction().deleteTable(compiled.table)).catch(() => undefined);
  }
}

function r(kind: Resource['kind'], name: string, spec: object, labels?: Record<string, string>): Resource {
  return { apiVersion: API_VERSION, kind, metadata: labels ? { name, labels } : { name }, spec } as Resource;
}

const PROBE_RESOURCES: Resource[] = [
  r('HostEndpoint', 'probe-if', { node: 'doctor', interfaceName: 'fgdoctor0', expectedIPs: ['192.0.2.1'], ports: [{ name: 'web', protocol: 'TCP', port: 8080 }] }, { probe: 'yes' }),
  r('HostEndpoint', 'probe-any', { node: 'doctor', interfaceName: '*' }, { probe: 'yes' }),
  r('GlobalNetworkSet', 'probe-nets', { nets: ['198.51.100.0/24', '203.0.113.7', '2001:db8::/48'] }, { bad: 'yes' }),
  r('Tier', 'probe-tier', { order: 10 }),
  r('GlobalNetworkPolicy', 'probe-a', {
    tier: 'probe-tier', order: 1, selector: 'has(probe)', preDNAT: true, applyOnForward: true,
    ingress: [{ action: 'Deny', source: { selector: "bad == 'yes'" } }, { action: 'Pass', protocol: 'UDP', destination: { notPorts: ['1000:2000'] } }],
  }),
  r('GlobalNetworkPolicy', 'probe-b', {
    order: 1, selector: 'has(probe)', preDNAT: true, applyOnForward: true,
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { nets: ['10.0.0.0/9'], notNets: ['10.1.0.0/16'] }, destination: { ports: [80, '8000:8100', 'web'] } },
      { action: 'Log', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
      { action: 'Deny', protocol: 'ICMPv6', notICMP: { type: 128 } },
    ],
  }),
];

async function socketCheck(path: string): Promise<DoctorCheck> {
  try {
    const st = await fs.stat(path);
    if (!st.isSocket()) return { name: 'socket', ok: false, detail: `${path} exists but is not a socket` };
    return { name: 'socket', ok: true, detail: `${path} is a socket (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})` };
  } catch (err) {
    return { name: 'socket', ok: false, detail: `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

async function storeCheck(dbPath: string | undefined, store: DoctorOptions['store']): Promise<DoctorCheck> {
  const parts: string[] = [];
  if (dbPath !== undefined) {
    try {
      const st = await fs.stat(dbPath);
      parts.push(`${dbPath} (${st.size} bytes)`);
    } catch (err) {
      return { name: 'store', ok: false, detail: `${dbPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
  }
  if (store) {
    try {
      parts.push(`schema version ${store.schemaVersion()}`);
    } catch (err) {
      return { name: 'store', ok: false, detail: `the store does not answer: ${(err as Error).message}` };
    }
  }
  return { name: 'store', ok: true, detail: parts.join(', ') };
}

function statusChecks(s: AgentStatus, warnings: string[]): DoctorCheck[] {
  warnings.push(...s.warnings);
  const last = s.lastRepairs[s.lastRepairs.length - 1];
  if (s.driftRepairs > 0 && last) warnings.push(`${s.driftRepairs} drift repair(s) since start; last at ${last.time}: ${last.description}`);
  return [
    {
      name: 'sync',
      ok: s.inSync,
      detail: s.inSync ? `the kernel holds revision ${s.revision} (generation ${s.generation})` : `the kernel is not in sync with revision ${s.revision}`,
    },
    {
      name: 'drift',
      ok: true,
      detail: s.driftRepairs === 0 ? 'no drift repaired since start' : `${s.driftRepairs} repair(s); recent: ${s.lastRepairs.map((d) => `${d.time} ${d.description}`).join(' | ')}`,
    },
  ];
}

/** Human lines for the CLI: the prerouting chains in order (with conntrack's place), then each check. */
export function formatDoctor(report: DoctorReport): string[] {
  const lines = ['prerouting base chains, in the order the kernel runs them:'];
  let conntrackShown = false;
  for (const c of report.chains) {
    if (!conntrackShown && c.priority > CONNTRACK_PRIORITY) {
      lines.push(`  ${String(CONNTRACK_PRIORITY).padStart(6)}  (conntrack)`);
      conntrackShown = true;
    }
    const same = report.chains.some((o) => o !== c && o.priority === c.priority && overlaps(o.family, c.family));
    lines.push(`  ${String(c.priority).padStart(6)}  ${c.family} ${c.table} ${c.chain} (${c.type}, policy ${c.policy})${c.role ? `  ${c.role}` : ''}${c.ours ? '  <- flockguard' : ''}${same ? '  !! same priority' : ''}`);
  }
  if (!conntrackShown) lines.push(`  ${String(CONNTRACK_PRIORITY).padStart(6)}  (conntrack)`);
  for (const c of report.checks) lines.push(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
  for (const w of report.warnings) lines.push(`warn  ${w}`);
  return lines;
}
