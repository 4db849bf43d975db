// Chain names exactly as kube-proxy derives them, so a lab ruleset looks like a real node's and
// code that recognises kube-proxy objects by name can be tested against it.
import { createHash } from 'node:crypto';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (Go's base32.StdEncoding, whose padding is cut off by callers). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = ((acc << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

function sha256Base32(text: string): string {
  return base32(createHash('sha256').update(text).digest());
}

/** A service port as kube-proxy names it: namespace, service name, port name, protocol. */
export interface ServicePortRef {
  namespace: string;
  name: string;
  portName: string;
  protocol: 'tcp' | 'udp';
}

/**
 * nftables mode (pkg/proxy/nftables/proxier.go hashAndTruncate): the first 8 base32 characters of
 * sha256(base), then "-", then base itself; base is "ns/svc/proto/port".
 */
export function nftServiceChainBase(ref: ServicePortRef): string {
  const base = `${ref.namespace}/${ref.name}/${ref.protocol}/${ref.portName}`;
  return `${sha256Base32(base).slice(0, 8)}-${base}`;
}

/**
 * nftables mode endpoint chain base: "ns/svc/proto/port__<ip>/<port>", where the IP's colons
 * become dots (IPv6 endpoints: "fd00.10.180..1/80" in kube-proxy's own tests).
 */
export function nftEndpointChainBase(ref: ServicePortRef, ip: string, port: number): string {
  const base = `${ref.namespace}/${ref.name}/${ref.protocol}/${ref.portName}__${ip.replace(/:/g, '.')}/${port}`;
  return `${sha256Base32(base).slice(0, 8)}-${base}`;
}

/** "ns/svc:port", kube-proxy's ServicePortName.String(). */
export function servicePortString(ref: ServicePortRef): string {
  return `${ref.namespace}/${ref.name}:${ref.portName}`;
}

/**
 * iptables mode (pkg/proxy/iptables/proxier.go portProtoHash): the first 16 base32 characters of
 * sha256("ns/svc:port" + proto); KUBE-SVC-, KUBE-EXT-, KUBE-FW- share it.
 */
export function iptablesServiceHash(ref: ServicePortRef): string {
  return sha256Base32(servicePortString(ref) + ref.protocol).slice(0, 16);
}

/** iptables mode KUBE-SEP- hash: sha256("ns/svc:port" + proto + endpoint), endpoint "ip:port" or "[ip6]:port". */
export function iptablesEndpointHash(ref: ServicePortRef, ip: string, port: number): string {
  const endpoint = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  return sha256Base32(servicePortString(ref) + ref.protocol + endpoint).slice(0, 16);
}
