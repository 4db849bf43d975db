// Calico protocol names and their IANA numbers (numorstring.Protocol). The names are matched
// exactly, as Calico's v3 validator does (protocolRegex `^(TCP|UDP|ICMP|ICMPv6|SCTP|UDPLite)$`).
import { Protocol } from './model';

export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPv6: 58,
  SCTP: 132,
  UDPLite: 136,
};

export const PROTOCOL_ICMP = 1;
export const PROTOCOL_ICMPV6 = 58;

/** The IANA number of a validated protocol (a canonical name or a number). */
export function protocolNumber(p: Protocol): number {
  return typeof p === 'number' ? p : PROTOCOL_NUMBERS[p];
}

/** TCP, UDP and SCTP carry ports (Calico's Protocol.SupportsPorts). */
export function supportsPorts(p: Protocol): boolean {
  const n = protocolNumber(p);
  return n === 6 || n === 17 || n === 132;
}

/** The name Calico would accept for a differently-cased one ("tcp" -> "TCP"), for hints. */
export function canonicalProtocolName(name: string): string | undefined {
  return Object.keys(PROTOCOL_NUMBERS).find((n) => n.toLowerCase() === name.toLowerCase());
}
