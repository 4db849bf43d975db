// The flockguard lab: a Kubernetes-like node in network namespaces, for end-to-end tests, the demo
// and benchmarks. Clients on a LAN reach a node whose kube-proxy rules (nftables or iptables mode,
// written as kube-proxy writes them) DNAT a NodePort, an external IP and a LoadBalancer IP to a pod
// behind a veth. Nothing here touches the caller's own network namespace: every address and rule
// lives in the lab's namespaces, which destroy() (or the exit guard, or cleanup.sh) removes.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BulkOutcome, ConnectOutcome } from './agent-protocol';
import { AgentHandle } from './agent-client';
import { guard, unguard } from './exit-guard';
import { renderKubeProxyIptables } from './kube-proxy-iptables';
import { renderKubeProxyNftables } from './kube-proxy-nftables';
import { claimOwner, removeOwner } from './owner';
import {
  familyPlan,
  labService,
  LAN,
  POD_NET,
  PORTS,
  SERVICE_NET,
  type ExternalTrafficPolicy,
  type KubeProxyMode,
  type Proto,
} from './plan';
import { inNamespace, LabError, run, runSync, type ExecOptions, type ExecResult } from './process';
import { BRIDGE, CLIENT_ADDRESSES, POD_IFACE, ROLES, sysctls, wiring, type Role } from './topology';

export { LabError } from './process';
export type { ExecResult, ExecOptions } from './process';
export type { ConnectOutcome, BulkOutcome, RateOutcome, ServerHello, FailureReason } from './agent-protocol';
export type { KubeProxyMode, Proto, ExternalTrafficPolicy } from './plan';

/** Prefix of every lab namespace name; scripts/lab/cleanup.sh relies on it. */
export const NAMESPACE_PREFIX = 'fglab-';

export interface LabOptions {
  kubeProxyMode: KubeProxyMode;
  /** Also give every host an IPv6 address and write kube-proxy's ip6 rules. */
  ipv6: boolean;
  /** Lowercase letters and digits, at most 12; random when absent. Namespaces are fglab-<id>-<role>. */
  id?: string;
  /** The Service's externalTrafficPolicy; kube-proxy masquerades external traffic under Cluster (default). */
  externalTrafficPolicy?: ExternalTrafficPolicy;
}

/** A namespace the lab runs an agent in, with its addresses. */
export interface LabHost {
  role: string;
  ns: string;
  v4: string;
  /** Undefined when the lab was created without IPv6. */
  v6: string | undefined;
}

export interface LabNode extends LabHost {
  /** The node's LAN interface, as on a real node. */
  eth0: 'eth0';
  eth0v4: string;
  eth0v6: string | undefined;
  /** The node's side of the pod's veth, and its addresses (the pod's default gateway). */
  podIface: string;
  podSideV4: string;
  podSideV6: string | undefined;
  /** TCP ports the node itself serves (bound to its eth0 addresses): an ssh-like failsafe and a node service (also UDP). */
  sshPort: number;
  httpPort: number;
}

export interface LabPod extends LabHost {
  /** The container port, where the Service's traffic lands after DNAT (TCP and UDP). */
  port: number;
}

export interface LabService {
  namespace: string;
  name: string;
  externalTrafficPolicy: ExternalTrafficPolicy;
  /** The Service port on ClusterIP, external IP and LoadBalancer IP (TCP and UDP). */
  port: number;
  targetPort: number;
  /** Served on the node's eth0 address (TCP and UDP). */
  nodePort: number;
  clusterIP: string;
  clusterIPv6: string | undefined;
  externalIP: string;
  externalIPv6: string | undefined;
  loadBalancerIP: string;
  loadBalancerIPv6: string | undefined;
}

export interface ConnectOptions {
  proto?: Proto;
  timeoutMs?: number;
}

export interface PingResult {
  ok: boolean;
  detail: string;
  elapsedMs: number;
}

export interface ThroughputResult {
  bytesPerSecond: number;
  bytes: number;
  seconds: number;
}

export interface ConnectionRateResult {
  connectionsPerSecond: number;
  connections: number;
  failures: number;
  /** The detail of the first failed connection, if any. */
  firstFailure: string | undefined;
  seconds: number;
}

const ID_PATTERN = /^[a-z0-9]{1,12}$/;

/** Kills a leftover process; one that is already gone is fine. */
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: it ended meanwhile.
  }
}

/**
 * Applies name=value settings by writing /proc/sys inside the namespace (what sysctl -w does),
 * with sh only, so the lab does not need procps.
 */
function sysctlCommand(settings: string[]): string[] {
  const writes = settings.map((s) => {
    const [name, value] = s.split('=');
    return `echo ${value} > /proc/sys/${name.replace(/\./g, '/')}`;
  });
  return ['sh', '-e', '-c', writes.join('\n')];
}

/** SIGTERM, then SIGKILL when the process is still there after graceMs. */
function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The repository root, found from this file whether it runs from dist/ or .build/<name>/. */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'scripts', 'lab', 'icmp_echo.py'))) {
    const up = dirname(dir);
    if (up === dir) throw new LabError('LAB_FILES_MISSING', `scripts/lab/icmp_echo.py not found above ${__dirname}`);
    dir = up;
  }
  return dir;
}

export class Lab {
  readonly id: string;
  readonly kubeProxyMode: KubeProxyMode;
  readonly ipv6: boolean;
  /** Every namespace of this lab, fglab-<id>-<role>. */
  readonly namespaces: string[];
  readonly lan: { ns: string; bridge: string };
  readonly node: LabNode;
  readonly pod: LabPod;
  readonly clients: { allowed: LabHost; denied: LabHost };
  readonly service: LabService;

  private readonly nsOf: (role: Role) => string;
  private readonly created: string[] = [];
  private readonly agents = new Map<string, AgentHandle>();
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(options: LabOptions, id: string) {
    this.id = id;
    this.kubeProxyMode = options.kubeProxyMode;
    this.ipv6 = options.ipv6;
    const ns = (role: Role): string => `${NAMESPACE_PREFIX}${id}-${role}`;
    this.nsOf = ns;
    const v6 = (address: string): string | undefined => (options.ipv6 ? address : undefined);
    this.namespaces = ROLES.map(ns);
    this.lan = { ns: ns('lan'), bridge: BRIDGE };
    this.node = {
      role: 'node',
      ns: ns('node'),
      v4: LAN.nodeV4,
      v6: v6(LAN.nodeV6),
      eth0: 'eth0',
      eth0v4: LAN.nodeV4,
      eth0v6: v6(LAN.nodeV6),
      podIface: POD_IFACE,
      podSideV4: POD_NET.gatewayV4,
      podSideV6: v6(POD_NET.gatewayV6),
      sshPort: PORTS.nodeSsh,
      httpPort: PORTS.nodeHttp,
    };
    this.pod = { role: 'pod', ns: ns('pod'), v4: POD_NET.podV4, v6: v6(POD_NET.podV6), port: PORTS.target };
    this.clients = {
      allowed: { role: 'allowed', ns: ns('allowed'), v4: CLIENT_ADDRESSES.allowed.v4, v6: v6(CLIENT_ADDRESSES.allowed.v6) },
      denied: { role: 'denied', ns: ns('denied'), v4: CLIENT_ADDRESSES.denied.v4, v6: v6(CLIENT_ADDRESSES.denied.v6) },
    };
    this.service = {
      namespace: 'lab',
      name: 'echo',
      externalTrafficPolicy: options.externalTrafficPolicy ?? 'Cluster',
      port: PORTS.service,
      targetPort: PORTS.target,
      nodePort: PORTS.nodePort,
      clusterIP: SERVICE_NET.clusterIPV4,
      clusterIPv6: v6(SERVICE_NET.clusterIPV6),
      externalIP: SERVICE_NET.externalIPV4,
      externalIPv6: v6(SERVICE_NET.externalIPV6),
      loadBalancerIP: SERVICE_NET.loadBalancerIPV4,
      loadBalancerIPv6: v6(SERVICE_NET.loadBalancerIPV6),
    };
  }

  /**
   * Builds a lab and returns it running. On any failure everything already made is removed before
   * the error (a LabError with a code) is thrown.
   */
  static async create(options: LabOptions): Promise<Lab> {
    if (options.kubeProxyMode !== 'nftables' && options.kubeProxyMode !== 'iptables') {
      throw new LabError('LAB_BAD_OPTION', `kubeProxyMode must be "nftables" or "iptables", got ${JSON.stringify(options.kubeProxyMode)}`);
    }
    const id = options.id ?? randomBytes(4).toString('hex');
    if (!ID_PATTERN.test(id)) {
      throw new LabError('LAB_BAD_OPTION', `id must match ${ID_PATTERN}, got ${JSON.stringify(id)}`);
    }
    claimOwner(id);
    const lab = new Lab(options, id);
    guard(lab);
    try {
      await lab.build();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /** Runs argv inside a lab namespace (a name, or a host of this lab). */
  exec(where: string | LabHost, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const ns = typeof where === 'string' ? where : where.ns;
    if (!this.namespaces.includes(ns)) {
      return Promise.reject(new LabError('LAB_NOT_OURS', `namespace ${ns} is not part of lab ${this.id}`));
    }
    return run(inNamespace(ns, argv), options);
  }

  /** Loads nft text (`nft -f -`) in the node namespace. */
  async nft(text: string): Promise<void> {
    await this.exec(this.node, ['nft', '-f', '-'], { input: text });
  }

  /** Opens a TCP connection (or sends a UDP datagram) from a lab host and waits for a lab server's hello. */
  async connect(from: LabHost, address: string, port: number, options: ConnectOptions = {}): Promise<ConnectOutcome> {
    const agent = this.agentFor(from);
    const r = await agent.request<'connect'>({
      op: 'connect',
      proto: options.proto ?? 'tcp',
      address,
      port,
      timeoutMs: options.timeoutMs ?? 2000,
    });
    return r.result;
  }

  /** One ICMP echo from a lab host. */
  async ping(from: LabHost, address: string, options: { timeoutMs?: number } = {}): Promise<PingResult> {
    const timeoutMs = options.timeoutMs ?? 1000;
    const script = join(repoRoot(), 'scripts', 'lab', 'icmp_echo.py');
    const r = await this.exec(from, ['python3', script, address, String(timeoutMs)], { allowFailure: true });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) {
      throw new LabError('LAB_PING_FAILED', `icmp_echo.py ${address} in ${from.ns} failed (status ${r.code}): ${r.stderr.trim()}`);
    }
    return JSON.parse(line) as PingResult;
  }

  /**
   * Bulk TCP transfer for durationMs from a lab host to a lab TCP server (e.g. the NodePort, which
   * takes the client → node → pod veth path through kube-proxy's DNAT). Returns what the server
   * counted per second; throws LAB_THROUGHPUT_FAILED when the transfer could not run.
   */
  async measureThroughput(
    from: LabHost,
    address: string,
    port: number,
    options: { durationMs?: number; timeoutMs?: number } = {},
  ): Promise<ThroughputResult> {
    const r = await this.agentFor(from).request<'bulk'>({
      op: 'bulk',
      address,
      port,
      durationMs: options.durationMs ?? 2000,
      timeoutMs: options.timeoutMs ?? 5000,
    });
    const outcome: BulkOutcome = r.result;
    if (!outcome.ok || outcome.seconds <= 0) {
      throw new LabError('LAB_THROUGHPUT_FAILED', `throughput from ${from.ns} to ${address}:${port}: ${outcome.detail}`);
    }
    return { bytesPerSecond: outcome.bytes / outcome.seconds, bytes: outcome.bytes, seconds: outcome.seconds };
  }

  /**
   * New TCP connections per second from a lab host to a lab TCP server for durationMs, with
   * `concurrency` connections in flight; each one counts once the server's hello arrived. Pre-DNAT
   * policy is evaluated on a connection's first packets, so this is the rate a firewall can slow.
   */
  async measureConnectionRate(
    from: LabHost,
    address: string,
    port: number,
    options: { durationMs?: number; concurrency?: number; timeoutMs?: number } = {},
  ): Promise<ConnectionRateResult> {
    const r = await this.agentFor(from).request<'rate'>({
      op: 'rate',
      address,
      port,
      durationMs: options.durationMs ?? 2000,
      concurrency: options.concurrency ?? 8,
      timeoutMs: options.timeoutMs ?? 2000,
    });
    const { connections, failures, firstFailure, seconds } = r.result;
    return { connectionsPerSecond: connections / seconds, connections, failures, firstFailure, seconds };
  }

  /**
   * Starts a long-running process inside a lab namespace (e.g. the flockguard agent in the node).
   * The lab owns it: destroy() sends SIGTERM, then SIGKILL after 2 s.
   */
  spawn(where: string | LabHost, argv: string[], options: { stdio?: StdioOptions; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const ns = typeof where === 'string' ? where : where.ns;
    if (!this.namespaces.includes(ns)) throw new LabError('LAB_NOT_OURS', `namespace ${ns} is not part of lab ${this.id}`);
    if (this.destroyed) throw new LabError('LAB_DESTROYED', `lab ${this.id} was destroyed`);
    const full = inNamespace(ns, argv);
    const child = spawn(full[0], full.slice(1), { stdio: options.stdio ?? 'pipe', env: options.env ?? process.env });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Stops the lab's processes and deletes its namespaces. Safe to call more than once. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all([...this.children].map(stopChild));
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
    this.agents.clear();
    const failures: string[] = [];
    for (const ns of [...this.created].reverse()) {
      await this.killLeftovers(ns);
      const r = await run(['ip', 'netns', 'del', ns], { allowFailure: true });
      if (r.code !== 0) failures.push(`${ns}: ${r.stderr.trim()}`);
    }
    this.created.length = 0;
    removeOwner(this.id);
    unguard(this);
    if (failures.length > 0) {
      throw new LabError('LAB_CLEANUP_FAILED', `lab ${this.id}: could not delete ${failures.join('; ')}`);
    }
  }

  /** Synchronous teardown for exit and signal handlers (see exit-guard.ts). */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const child of this.children) child.kill('SIGKILL');
    for (const agent of this.agents.values()) agent.killNow();
    this.agents.clear();
    for (const ns of [...this.created].reverse()) {
      for (const pid of runSync(['ip', 'netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean)) {
        killQuietly(Number(pid));
      }
      runSync(['ip', 'netns', 'del', ns]);
    }
    this.created.length = 0;
    removeOwner(this.id);
    unguard(this);
  }

  // ---------------------------------------------------------------- construction

  private async build(): Promise<void> {
    for (const ns of this.namespaces) {
      // An existing namespace of that name is someone else's: fail (and leave it alone).
      await run(['ip', 'netns', 'add', ns]).catch((err: Error) => {
        throw new LabError('LAB_NAMESPACE_EXISTS', `cannot create namespace ${ns}: ${err.message}`, { cause: err });
      });
      this.created.push(ns);
    }
    await Promise.all(ROLES.map((role) => run(inNamespace(this.nsOf(role), sysctlCommand(sysctls(role, this.ipv6))))));
    for (const batch of wiring((role) => this.nsOf(role), this.ipv6)) await this.ipBatch(this.nsOf(batch.role), batch.lines);
    await this.startAgents();
    await this.installKubeProxy();
    await this.checkPodReachable();
  }

  /** Runs `ip -batch` in a namespace; lines are ip(8) commands without the leading "ip". */
  private async ipBatch(ns: string, lines: string[]): Promise<void> {
    await run(['ip', '-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });
  }

  private async startAgents(): Promise<void> {
    for (const host of [this.node, this.pod, this.clients.allowed, this.clients.denied]) {
      this.agents.set(host.ns, AgentHandle.start(host.ns));
    }
    const listens: Array<Promise<unknown>> = [];
    const listen = (host: LabHost, proto: Proto, port: number): void => {
      for (const address of [host.v4, host.v6]) {
        if (address === undefined) continue;
        listens.push(this.agentFor(host).request<'listen'>({ op: 'listen', proto, address, port, name: host.role }));
      }
    };
    listen(this.pod, 'tcp', this.pod.port);
    listen(this.pod, 'udp', this.pod.port);
    listen(this.node, 'tcp', this.node.sshPort);
    listen(this.node, 'tcp', this.node.httpPort);
    listen(this.node, 'udp', this.node.httpPort);
    await Promise.all(listens);
  }

  private async installKubeProxy(): Promise<void> {
    const svc = labService(this.service.externalTrafficPolicy);
    const families: Array<4 | 6> = this.ipv6 ? [4, 6] : [4];
    for (const family of families) {
      const plan = familyPlan(family);
      if (this.kubeProxyMode === 'nftables') {
        await this.exec(this.node, ['nft', '-f', '-'], { input: renderKubeProxyNftables(plan, svc) });
      } else {
        const restore = family === 4 ? 'iptables-nft-restore' : 'ip6tables-nft-restore';
        await this.exec(this.node, [restore, '--noflush'], { input: renderKubeProxyIptables(plan, svc) });
      }
    }
  }

  /** Fails fast when the node cannot reach the pod directly (no NAT involved). */
  private async checkPodReachable(): Promise<void> {
    for (const address of [this.pod.v4, this.pod.v6]) {
      if (address === undefined) continue;
      const r = await this.connect(this.node, address, this.pod.port, { timeoutMs: 3000 });
      if (!r.ok) throw new LabError('LAB_NOT_READY', `lab ${this.id}: node cannot reach the pod: ${r.detail}`);
    }
  }

  private agentFor(host: LabHost): AgentHandle {
    const agent = this.agents.get(host.ns);
    if (!agent) {
      throw new LabError(
        this.destroyed ? 'LAB_DESTROYED' : 'LAB_NO_AGENT',
        `lab ${this.id}: no agent in ${host.ns} (${this.destroyed ? 'the lab was destroyed' : 'not a client, node or pod of this lab'})`,
      );
    }
    return agent;
  }

  private async killLeftovers(ns: string): Promise<void> {
    const r = await run(['ip', 'netns', 'pids', ns], { allowFailure: true });
    for (const pid of r.stdout.split(/\s+/).filter(Boolean)) {
      killQuietly(Number(pid));
    }
  }
}
