// Netlink message framing (include/uapi/linux/netlink.h, struct nlmsghdr and struct nlmsgerr):
// a 16-byte header {u32 len, u16 type, u16 flags, u32 seq, u32 pid} in host byte order, then the
// payload, each message padded to 4 bytes. Several messages may share one datagram.
import { AttributeReader, AttributeWriter } from './attributes';
import {
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLMSG_HDRLEN,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  align4,
} from './constants';

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Everything after the 16-byte header (a view into the datagram). */
  payload: Buffer;
}

/** Starts a message in `w`; returns its offset, to be passed to `endMessage` once it is filled. */
export function beginMessage(w: AttributeWriter, type: number, flags: number, seq: number, pid = 0): number {
  const start = w.reserve(NLMSG_HDRLEN);
  w.patchU16(start + 4, type);
  w.patchU16(start + 6, flags);
  w.patchU32(start + 8, seq);
  w.patchU32(start + 12, pid);
  return start;
}

/** Writes the final length into the header and pads the message to 4 bytes. */
export function endMessage(w: AttributeWriter, start: number): void {
  const len = w.length - start;
  w.patchU32(start, len);
  const pad = align4(len) - len;
  if (pad) w.reserve(pad);
}

/** Thrown when a datagram does not parse as netlink messages. */
export class FramingError extends Error {
  readonly code = 'NETLINK_BAD_FRAME';
}

/** Splits one received datagram into its messages. */
export function parseMessages(datagram: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let pos = 0;
  while (pos + NLMSG_HDRLEN <= datagram.length) {
    const len = datagram.readUInt32LE(pos);
    if (len < NLMSG_HDRLEN || pos + len > datagram.length) {
      throw new FramingError(`truncated netlink message at offset ${pos}: length ${len} of ${datagram.length}`);
    }
    out.push({
      type: datagram.readUInt16LE(pos + 4),
      flags: datagram.readUInt16LE(pos + 6),
      seq: datagram.readUInt32LE(pos + 8),
      pid: datagram.readUInt32LE(pos + 12),
      payload: datagram.subarray(pos + NLMSG_HDRLEN, pos + len),
    });
    pos += align4(len);
  }
  return out;
}

/** The body of an NLMSG_ERROR message: errno 0 is an ACK. */
export interface NetlinkErrorBody {
  /** Positive errno, 0 for an ACK. */
  errno: number;
  /** Type and seq of the request this answers. */
  requestType: number;
  requestSeq: number;
  /** Extended ACK message and attribute offset, when the kernel sent them. */
  message?: string;
  offset?: number;
}

export function parseErrorBody(msg: NetlinkMessage): NetlinkErrorBody {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) throw new FramingError(`short NLMSG_ERROR: ${p.length} bytes`);
  const body: NetlinkErrorBody = {
    errno: -p.readInt32LE(0),
    requestType: p.readUInt16LE(4 + 4),
    requestSeq: p.readUInt32LE(4 + 8),
  };
  if (msg.flags & NLM_F_ACK_TLVS) {
    // The original request follows unless the ACK was capped (or it was a success ACK).
    const origLen = p.readUInt32LE(4);
    const tlvStart = 4 + (msg.flags & NLM_F_CAPPED || body.errno === 0 ? NLMSG_HDRLEN : align4(origLen));
    if (tlvStart <= p.length) {
      const tlv = new AttributeReader(p, tlvStart);
      body.message = tlv.string(NLMSGERR_ATTR_MSG);
      body.offset = tlv.u32(NLMSGERR_ATTR_OFFS);
    }
  }
  return body;
}
