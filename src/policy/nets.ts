// Strict IPv4/IPv6 address and CIDR parsing for policy nets, expectedIPs and network sets.
//
// Strict the way Go's net.ParseCIDR (Go >= 1.17, which Calico links) is strict: IPv4 is exactly four
// decimal octets without leading zeros, so inet_aton's octal and shortened forms ("010.0.0.1",
// "10.1", "1.2.3") are refused instead of silently meaning another address; no zone ids; the
// prefix is plain decimal. A CIDR with host bits set ("10.0.0.1/8") is accepted and masked, as
// Calico's cnet.ParseCIDR does; a bare address is a /32 or /128.

export interface Cidr {
  family: 4 | 6;
  /** 4 or 16 bytes, host bits cleared. */
  addr: Buffer;
  prefix: number;
}

export class NetError extends Error {
  readonly code = 'BAD_CIDR';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`"${input}" is not a valid ${input.includes('/') ? 'CIDR' : 'IP address'}: ${reason}`);
    this.name = 'NetError';
  }
}

const CH_0 = 48;
const CH_9 = 57;
const CH_DOT = 46;
const CH_COLON = 58;

/** Parses an IPv4 address in text[start, end) as an unsigned 32-bit number; throws the reason. */
function scanIPv4(text: string, start: number, end: number): number {
  let value = 0;
  let octets = 0;
  let i = start;
  while (true) {
    const octetStart = i;
    let octet = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < CH_0 || c > CH_9) break;
      octet = octet * 10 + (c - CH_0);
      i++;
    }
    const digits = i - octetStart;
    if (digits === 0) throw new Error(`expected a decimal octet at "${text.slice(octetStart, end)}"`);
    if (digits > 1 && text.charCodeAt(octetStart) === CH_0) {
      throw new Error(`octet "${text.slice(octetStart, i)}" has a leading zero (octal forms are refused)`);
    }
    if (digits > 3 || octet > 255) throw new Error(`octet "${text.slice(octetStart, i)}" is above 255`);
    value = value * 256 + octet;
    octets++;
    if (i === end) break;
    if (text.charCodeAt(i) !== CH_DOT || octets === 4) {
      throw new Error(`unexpected "${text[i]}" in an IPv4 address`);
    }
    i++;
  }
  if (octets !== 4) throw new Error(`an IPv4 address has 4 octets, not ${octets} (shortened forms are refused)`);
  return value;
}

function hexValue(c: number): number {
  if (c >= CH_0 && c <= CH_9) return c - CH_0;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** Parses an IPv6 address (RFC 4291 section 2.2 text forms) in text[start, end) into 16 bytes. */
function scanIPv6(text: string, start: number, end: number): Buffer {
  const groups: number[] = [];
  let gapAt = -1;
  let i = start;
  if (text.startsWith('::', i)) {
    gapAt = 0;
    i += 2;
  } else if (text.charCodeAt(i) === CH_COLON) {
    throw new Error('an IPv6 address cannot start with a single ":"');
  }
  while (i < end) {
    const groupStart = i;
    let group = 0;
    let h: number;
    while (i < end && (h = hexValue(text.charCodeAt(i))) >= 0) {
      group = group * 16 + h;
      i++;
    }
    if (i < end && text.charCodeAt(i) === CH_DOT) {
      // Embedded IPv4 in the last 32 bits ("::ffff:192.0.2.1").
      const v4 = scanIPv4(text, groupStart, end);
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      i = end;
      break;
    }
    const digits = i - groupStart;
    if (digits === 0) throw new Error(`expected a hex group at "${text.slice(groupStart, end)}"`);
    if (digits > 4) throw new Error(`group "${text.slice(groupStart, i)}" has more than 4 hex digits`);
    groups.push(group);
    if (i === end) break;
    if (text.charCodeAt(i) !== CH_COLON) throw new Error(`unexpected "${text[i]}" in an IPv6 address`);
    i++;
    if (text.charCodeAt(i) === CH_COLON) {
      if (gapAt >= 0) throw new Error('"::" may appear only once');
      gapAt = groups.length;
      i++;
    } else if (i === end) {
      throw new Error('an IPv6 address cannot end with a single ":"');
    }
  }
  if (groups.length > 8) throw new Error('an IPv6 address has at most 8 groups');
  if (gapAt < 0 && groups.length !== 8) throw new Error(`an IPv6 address without "::" has 8 groups, not ${groups.length}`);
  if (gapAt >= 0 && groups.length === 8) throw new Error('"::" must stand for at least one group');
  const out = Buffer.alloc(16);
  const tail = groups.length - Math.max(gapAt, 0);
  for (let g = 0; g < groups.length; g++) {
    const slot = gapAt >= 0 && g >= gapAt ? 8 - tail + (g - gapAt) : g;
    out.writeUInt16BE(groups[g], slot * 2);
  }
  return out;
}

function scanPrefix(text: string, start: number, max: number): number {
  const digits = text.slice(start);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(digits)) throw new Error(`prefix length "${digits}" is not a decimal number`);
  const prefix = Number(digits);
  if (prefix > max) throw new Error(`prefix length ${prefix} is above ${max}`);
  return prefix;
}

function isIPv6Text(text: string): boolean {
  return text.includes(':');
}

function maskBytes(addr: Buffer, prefix: number): void {
  for (let b = 0; b < addr.length; b++) {
    const keep = Math.min(8, Math.max(0, prefix - b * 8));
    addr[b] &= (0xff00 >> keep) & 0xff;
  }
}

function withReason<T>(text: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof NetError) throw err;
    throw new NetError(text, (err as Error).message);
  }
}

/** Parses "addr/prefix" or a bare address (a /32 or /128); host bits are cleared. */
export function parseCidr(text: string): Cidr {
  return withReason(text, () => {
    const slash = text.indexOf('/');
    const addrEnd = slash < 0 ? text.length : slash;
    if (addrEnd === 0) throw new Error('the address is empty');
    if (isIPv6Text(text)) {
      const addr = scanIPv6(text, 0, addrEnd);
      const prefix = slash < 0 ? 128 : scanPrefix(text, slash + 1, 128);
      maskBytes(addr, prefix);
      return { family: 6, addr, prefix };
    }
    const value = scanIPv4(text, 0, addrEnd);
    const prefix = slash < 0 ? 32 : scanPrefix(text, slash + 1, 32);
    const addr = Buffer.alloc(4);
    addr.writeUInt32BE(value);
    maskBytes(addr, prefix);
    return { family: 4, addr, prefix };
  });
}

/** Parses a bare IP address (no prefix), as HostEndpoint expectedIPs are written. */
export function parseIpAddress(text: string): { family: 4 | 6; addr: Buffer } {
  if (text.includes('/')) throw new NetError(text, 'expected an address without a prefix length');
  const { family, addr } = parseCidr(text);
  return { family, addr };
}

function formatIPv6(addr: Buffer): string {
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) groups.push(addr.readUInt16BE(g * 2));
  // RFC 5952 section 4.2: "::" replaces the longest run of two or more zero groups, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let g = 0; g < 8; ) {
    if (groups[g] !== 0) {
      g++;
      continue;
    }
    let run = g;
    while (run < 8 && groups[run] === 0) run++;
    if (run - g > bestLen) {
      bestStart = g;
      bestLen = run - g;
    }
    g = run;
  }
  const hex = groups.map((v) => v.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Formats an address alone: dotted quad, or RFC 5952 IPv6. */
export function formatIpAddress(family: 4 | 6, addr: Buffer): string {
  return family === 4 ? `${addr[0]}.${addr[1]}.${addr[2]}.${addr[3]}` : formatIPv6(addr);
}

/** Formats a CIDR canonically, always with its prefix length: "10.0.0.0/8", "2001:db8::/32". */
export function formatCidr(c: Cidr): string {
  return `${formatIpAddress(c.family, c.addr)}/${c.prefix}`;
}

/**
 * True when `text` is "a.b.c.d/n" in strict form with no host bits set, i.e. already canonical.
 * No allocation and no exceptions: this runs once per entry of 1,000,000-entry network sets.
 */
function isCanonicalIPv4Cidr(text: string): boolean {
  const len = text.length;
  let i = 0;
  let value = 0;
  for (let octet = 0; octet < 4; octet++) {
    const start = i;
    let n = 0;
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c < CH_0 || c > CH_9) break;
      n = n * 10 + (c - CH_0);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || n > 255 || (digits > 1 && text.charCodeAt(start) === CH_0)) return false;
    value = value * 256 + n;
    if (i >= len || text.charCodeAt(i) !== (octet < 3 ? CH_DOT : 47 /* / */)) return false;
    i++;
  }
  const start = i;
  let prefix = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c < CH_0 || c > CH_9) return false;
    prefix = prefix * 10 + (c - CH_0);
    i++;
  }
  const digits = i - start;
  if (digits === 0 || digits > 2 || prefix > 32 || (digits > 1 && text.charCodeAt(start) === CH_0)) return false;
  return value % 2 ** (32 - prefix) === 0;
}

/**
 * The canonical text of a CIDR (what formatCidr(parseCidr(text)) gives), with a fast path for the
 * common case: a strictly parsed IPv4 CIDR without host bits is already canonical, so a 1,000,000
 * entry GlobalNetworkSet is validated without allocating a Buffer per entry.
 */
export function canonicalCidr(text: string): { family: 4 | 6; text: string } {
  if (isCanonicalIPv4Cidr(text)) return { family: 4, text };
  const cidr = parseCidr(text);
  return { family: cidr.family, text: formatCidr(cidr) };
}

/** The first and last address a CIDR covers (inclusive), as an interval set needs them. */
export function cidrRange(c: Cidr): [first: Buffer, last: Buffer] {
  const first = Buffer.from(c.addr);
  const last = Buffer.from(c.addr);
  for (let b = 0; b < last.length; b++) {
    const keep = Math.min(8, Math.max(0, c.prefix - b * 8));
    last[b] |= 0xff >> keep;
  }
  return [first, last];
}
