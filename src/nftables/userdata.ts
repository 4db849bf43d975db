// nftnl userdata: a sequence of {u8 type, u8 len, value} TLVs stored verbatim by the kernel in
// NFTA_*_USERDATA (libnftnl include/libnftnl/udata.h). nft uses it for comments and for hints that
// only `nft list` needs (a set's key byte order, an open interval). Integers are u32 in host order
// (nftnl_udata_put_u32 copies the native value); strings carry their NUL (nftnl_udata_put_strz).
import { endianness } from 'node:os';
import { NftCodecError } from './message';

const HOST_LE = endianness() === 'LE';

/** NFTNL_UDATA_{TABLE,CHAIN,RULE,SET_ELEM}_COMMENT. */
export const UDATA_COMMENT = 0;
/** NFTNL_UDATA_SET_ELEM_FLAGS, with its one bit NFTNL_SET_ELEM_F_INTERVAL_OPEN. */
export const UDATA_SET_ELEM_FLAGS = 1;
export const SET_ELEM_F_INTERVAL_OPEN = 0x1;
/** enum nftnl_udata_set_types. */
export const UDATA_SET_KEYBYTEORDER = 0;
export const UDATA_SET_DATABYTEORDER = 1;
export const UDATA_SET_COMMENT = 7;
/** Byte-order values nft stores for sets (enum byteorder in nft's datatype.h). */
export const BYTEORDER_HOST = 1;
export const BYTEORDER_BIG = 2;

/** The kernel's limit (NFT_USERDATA_MAXLEN) and nft's limit for a comment (NFTNL_UDATA_COMMENT_MAXLEN). */
export const USERDATA_MAXLEN = 256;
export const COMMENT_MAXLEN = 128;

export type UdataEntry = [type: number, value: Buffer];

export function udataString(s: string): Buffer {
  const b = Buffer.alloc(Buffer.byteLength(s) + 1);
  b.write(s);
  return b;
}

export function udataU32(n: number): Buffer {
  const b = Buffer.alloc(4);
  if (HOST_LE) b.writeUInt32LE(n >>> 0);
  else b.writeUInt32BE(n >>> 0);
  return b;
}

/** A comment's value, checked against nft's limit so that `nft list` can print it. */
export function commentValue(comment: string, object: string): Buffer {
  const v = udataString(comment);
  if (v.length > COMMENT_MAXLEN) {
    throw new NftCodecError(`${object}: comment is ${v.length - 1} bytes, nft allows ${COMMENT_MAXLEN - 1}`, 'NFT_COMMENT_TOO_LONG');
  }
  return v;
}

export function encodeUdata(entries: readonly UdataEntry[]): Buffer {
  let len = 0;
  for (const [, v] of entries) len += 2 + v.length;
  const out = Buffer.alloc(len);
  let pos = 0;
  for (const [t, v] of entries) {
    if (v.length > 255) throw new NftCodecError(`userdata entry ${t} is ${v.length} bytes, max 255`);
    out[pos] = t;
    out[pos + 1] = v.length;
    out.set(v, pos + 2);
    pos += 2 + v.length;
  }
  if (len > USERDATA_MAXLEN) throw new NftCodecError(`userdata is ${len} bytes, the kernel allows ${USERDATA_MAXLEN}`);
  return out;
}

/** The TLVs of a userdata blob by type (the first of each type); a truncated tail is ignored, as nftnl does. */
export function decodeUdata(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let pos = 0;
  while (pos + 2 <= buf.length) {
    const len = buf[pos + 1];
    if (pos + 2 + len > buf.length) break;
    if (!out.has(buf[pos])) out.set(buf[pos], buf.subarray(pos + 2, pos + 2 + len));
    pos += 2 + len;
  }
  return out;
}

export function readUdataString(v: Buffer | undefined): string | undefined {
  if (!v) return undefined;
  const nul = v.indexOf(0);
  return v.toString('utf8', 0, nul < 0 ? v.length : nul);
}

export function readUdataU32(v: Buffer | undefined): number | undefined {
  if (!v || v.length < 4) return undefined;
  return HOST_LE ? v.readUInt32LE(0) : v.readUInt32BE(0);
}
