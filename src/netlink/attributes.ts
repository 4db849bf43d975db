// Netlink attribute encoding (include/uapi/linux/netlink.h, struct nlattr): a 4-byte header
// {u16 len, u16 type} then the payload, each attribute padded to 4 bytes; len counts header and
// payload but not the padding. AttributeWriter and AttributeReader use the same method names, one
// per wire type, so an encoder and its decoder read alike.
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, align4 } from './constants';

/**
 * Appends attributes to a growing buffer. One writer can hold many messages back to back (a whole
 * batch), so that a batch goes to the kernel as one contiguous buffer without copies.
 */
export class AttributeWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 4096) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  /** Reserves n bytes (zeroed) and returns their offset. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.buf.fill(0, at, at + n);
    this.pos += n;
    return at;
  }

  /** Appends raw bytes with no attribute header (a family's fixed header, say). */
  put(value: Uint8Array): this {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** Writes a u32 in host byte order at an offset reserved earlier (a length filled in later). */
  patchU32(at: number, value: number): void {
    this.buf.writeUInt32LE(value, at);
  }

  patchU16(at: number, value: number): void {
    this.buf.writeUInt16LE(value, at);
  }

  /** The bytes written so far (a view, not a copy). */
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** The bytes from `from` to the current end (a view). */
  slice(from: number, to = this.pos): Buffer {
    return this.buf.subarray(from, to);
  }

  u8(type: number, value: number): this {
    const at = this.header(type, 1);
    this.buf.writeUInt8(value, at);
    return this;
  }

  u16(type: number, value: number): this {
    const at = this.header(type, 2);
    this.buf.writeUInt16LE(value, at);
    return this;
  }

  u16be(type: number, value: number): this {
    const at = this.header(type, 2);
    this.buf.writeUInt16BE(value, at);
    return this;
  }

  u32(type: number, value: number): this {
    const at = this.header(type, 4);
    this.buf.writeUInt32LE(value >>> 0, at);
    return this;
  }

  u32be(type: number, value: number): this {
    const at = this.header(type, 4);
    this.buf.writeUInt32BE(value >>> 0, at);
    return this;
  }

  /** Signed be32 (verdict codes, hook priorities). */
  i32be(type: number, value: number): this {
    const at = this.header(type, 4);
    this.buf.writeInt32BE(value, at);
    return this;
  }

  u64be(type: number, value: bigint): this {
    const at = this.header(type, 8);
    this.buf.writeBigUInt64BE(value, at);
    return this;
  }

  /** A NUL-terminated string (mnl_attr_put_strz). */
  string(type: number, value: string): this {
    const len = Buffer.byteLength(value) + 1;
    const at = this.header(type, len);
    this.buf.write(value, at);
    this.buf[at + len - 1] = 0;
    return this;
  }

  bytes(type: number, value: Uint8Array): this {
    const at = this.header(type, value.length);
    this.buf.set(value, at);
    return this;
  }

  /** An attribute with no payload. */
  flag(type: number): this {
    this.header(type, 0);
    return this;
  }

  /** A nested attribute: `fill` writes its members. NLA_F_NESTED is set, as libmnl does. */
  nest(type: number, fill: (w: this) => void): this {
    const start = this.beginNest(type);
    fill(this);
    this.endNest(start);
    return this;
  }

  beginNest(type: number): number {
    this.ensure(NLA_HDRLEN);
    const start = this.pos;
    this.buf.writeUInt16LE(type | NLA_F_NESTED, start + 2);
    this.pos += NLA_HDRLEN;
    return start;
  }

  endNest(start: number): void {
    const len = this.pos - start;
    if (len > 0xffff) throw new RangeError(`nested attribute too long: ${len} bytes (max 65535)`);
    this.buf.writeUInt16LE(len, start);
  }

  /** Writes a header for a payload of `len` bytes, zeroes the padding, returns the payload offset. */
  private header(type: number, len: number): number {
    const total = align4(NLA_HDRLEN + len);
    this.ensure(total);
    const at = this.pos;
    if (NLA_HDRLEN + len > 0xffff) throw new RangeError(`attribute too long: ${len} bytes`);
    this.buf.writeUInt16LE(NLA_HDRLEN + len, at);
    this.buf.writeUInt16LE(type, at + 2);
    const pad = total - NLA_HDRLEN - len;
    if (pad) this.buf.fill(0, at + total - pad, at + total);
    this.pos += total;
    return at + NLA_HDRLEN;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

/** Thrown when received bytes do not parse as netlink attributes. */
export class AttributeError extends Error {
  readonly code = 'NETLINK_BAD_ATTRIBUTE';
}

/**
 * The attributes of one region of a message, indexed by type. A type that occurs several times
 * (list elements) is read with `all`. Payloads are views into the received buffer, never copies.
 */
export class AttributeReader {
  private readonly first = new Map<number, Buffer>();
  private readonly order: Array<[number, Buffer]> = [];

  constructor(buf: Buffer, start = 0, end = buf.length) {
    let pos = start;
    while (pos + NLA_HDRLEN <= end) {
      const len = buf.readUInt16LE(pos);
      const type = buf.readUInt16LE(pos + 2) & NLA_TYPE_MASK;
      if (len < NLA_HDRLEN || pos + len > end) {
        throw new AttributeError(`truncated attribute type ${type} at offset ${pos}: length ${len}`);
      }
      const payload = buf.subarray(pos + NLA_HDRLEN, pos + len);
      if (!this.first.has(type)) this.first.set(type, payload);
      this.order.push([type, payload]);
      pos += align4(len);
    }
  }

  has(type: number): boolean {
    return this.first.has(type);
  }

  /** Every attribute in wire order, as [type, payload]. */
  entries(): ReadonlyArray<[number, Buffer]> {
    return this.order;
  }

  /** Every payload of the given type, in wire order. */
  all(type: number): Buffer[] {
    const out: Buffer[] = [];
    for (const [t, p] of this.order) if (t === type) out.push(p);
    return out;
  }

  u8(type: number): number | undefined {
    return this.first.get(type)?.readUInt8(0);
  }

  u16(type: number): number | undefined {
    return this.first.get(type)?.readUInt16LE(0);
  }

  u16be(type: number): number | undefined {
    return this.first.get(type)?.readUInt16BE(0);
  }

  u32(type: number): number | undefined {
    return this.first.get(type)?.readUInt32LE(0);
  }

  u32be(type: number): number | undefined {
    return this.first.get(type)?.readUInt32BE(0);
  }

  i32be(type: number): number | undefined {
    return this.first.get(type)?.readInt32BE(0);
  }

  u64be(type: number): bigint | undefined {
    return this.first.get(type)?.readBigUInt64BE(0);
  }

  /** A NUL-terminated string; the NUL and anything after it are dropped. */
  string(type: number): string | undefined {
    const p = this.first.get(type);
    if (!p) return undefined;
    const nul = p.indexOf(0);
    return p.toString('utf8', 0, nul < 0 ? p.length : nul);
  }

  bytes(type: number): Buffer | undefined {
    return this.first.get(type);
  }

  flag(type: number): boolean {
    return this.first.has(type);
  }

  nest(type: number): AttributeReader | undefined {
    const p = this.first.get(type);
    return p ? new AttributeReader(p) : undefined;
  }
}
