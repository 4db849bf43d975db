// A one-pass reader for the common case of a large GlobalNetworkSet: an IPv4 CIDR (or address)
// straight to the packed `start * 64 + prefix` key, with no Buffer per net. It accepts only what
// src/policy/nets.ts parseCidr accepts, with the same value (property-tested against it); anything
// else returns -1 and the caller takes parseCidr's path, which also words the error.

const CH_0 = 48;
const CH_9 = 57;
const CH_DOT = 46;
const CH_SLASH = 47;

/** The packed key of a strict IPv4 CIDR or bare address (host bits cleared), or -1. */
export function packedV4(text: string): number {
  let value = 0;
  let i = 0;
  const end = text.length;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (text.charCodeAt(i) !== CH_DOT) return -1;
      i++;
    }
    const start = i;
    let v = 0;
    while (i < end && i - start < 3) {
      const c = text.charCodeAt(i);
      if (c < CH_0 || c > CH_9) break;
      v = v * 10 + (c - CH_0);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || v > 255 || (digits > 1 && text.charCodeAt(start) === CH_0)) return -1;
    value = value * 256 + v;
  }
  let prefix = 32;
  if (i < end) {
    if (text.charCodeAt(i) !== CH_SLASH) return -1;
    i++;
    const start = i;
    prefix = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < CH_0 || c > CH_9 || i - start >= 2) return -1;
      prefix = prefix * 10 + (c - CH_0);
      i++;
    }
    if (i === start || prefix > 32 || (i - start > 1 && text.charCodeAt(start) === CH_0)) return -1;
  }
  const block = 2 ** (32 - prefix);
  return (value - (value % block)) * 64 + prefix;
}
