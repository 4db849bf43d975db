// Compile options and the failsafe port list in Felix's env-var syntax
// (calico felix/config/param_types.go PortListParam.Parse): "<port>", "<proto>:<port>" or
// "<proto>:<cidr>:<port>", with IPv6 CIDRs in brackets; "none" (or an empty list) disables them.
import { Cidr, parseCidr } from '../policy/nets';
import { CompileError } from './errors';

export interface CompileOptions {
  /** Priority of the prerouting base chain; -150 is mangle, before kube-proxy's DNAT at -100. */
  priority: number;
  /** Failsafe inbound ports in Calico's forms (FailsafeInboundHostPorts). */
  failsafeInbound: string[];
  /** `ct state invalid drop` on HostEndpoint traffic (Calico's default; DisableConntrackInvalid off). */
  dropInvalid: boolean;
  tableName?: string;
}

/** Felix's FailsafeInboundHostPorts default (felix/config/config_params.go). */
export const CALICO_FAILSAFE_INBOUND: readonly string[] = [
  'tcp:22', 'udp:68', 'tcp:179', 'tcp:2379', 'tcp:2380', 'tcp:5473', 'tcp:6443', 'tcp:6666', 'tcp:6667',
];

export const DEFAULT_COMPILE_OPTIONS: CompileOptions = {
  priority: -150,
  failsafeInbound: [...CALICO_FAILSAFE_INBOUND],
  dropInvalid: true,
  tableName: 'flockguard',
};

export interface Failsafe {
  /** The entry as written, for the rule comment. */
  text: string;
  protocol: 'tcp' | 'udp';
  port: number;
  /** Source network; absent means any source. */
  net?: Cidr;
}

function bad(entry: string, reason: string): CompileError {
  return new CompileError('BAD_FAILSAFE', 'failsafeInbound', 'entry', entry, reason);
}

function parsePort(entry: string, text: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) throw bad(entry, `port "${text}" is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw bad(entry, `port ${port} is outside 1-65535`);
  return port;
}

/** Parses one failsafe entry. */
export function parseFailsafe(entry: string): Failsafe {
  const text = entry.trim();
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return { text: `tcp:${text}`, protocol: 'tcp', port: parsePort(entry, text) };
  const port = parsePort(entry, text.slice(lastColon + 1));
  const head = text.slice(0, lastColon);
  const firstColon = head.indexOf(':');
  const protoText = (firstColon < 0 ? head : head.slice(0, firstColon)).toLowerCase();
  if (protoText !== 'tcp' && protoText !== 'udp') throw bad(entry, `protocol "${protoText}" is not tcp or udp`);
  if (firstColon < 0) return { text: `${protoText}:${port}`, protocol: protoText, port };
  let netText = head.slice(firstColon + 1);
  if (netText.startsWith('[')) {
    if (!netText.endsWith(']')) throw bad(entry, 'an IPv6 CIDR opened with "[" must close with "]"');
    netText = netText.slice(1, -1);
  } else if (netText.includes(':')) {
    throw bad(entry, 'an IPv6 CIDR must be written in brackets: tcp:[2001:db8::/32]:22');
  }
  let net: Cidr;
  try {
    net = parseCidr(netText);
  } catch (err) {
    throw bad(entry, (err as Error).message);
  }
  return { text: `${protoText}:${netText}:${port}`, protocol: protoText, port, net };
}

/** Parses the whole list; "none" alone, or an empty list, means no failsafes. */
export function parseFailsafes(entries: readonly string[]): Failsafe[] {
  const list = entries.map((e) => e.trim()).filter((e) => e !== '');
  if (list.length === 1 && list[0].toLowerCase() === 'none') return [];
  return list.map(parseFailsafe);
}
