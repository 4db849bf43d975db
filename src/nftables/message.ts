// The nfnetlink frame of every nf_tables message (include/uapi/linux/netfilter/nfnetlink.h,
// struct nfgenmsg): after the netlink header comes {u8 nfgen_family, u8 version, __be16 res_id}.
// res_id is 0 in requests except the batch delimiters, which carry the subsystem id (htons(10),
// nftnl common.c nftnl_batch_begin); in kernel replies it is the low 16 bits of the generation.
import { AttributeReader, AttributeWriter, NetlinkMessage, NLM_F_REQUEST, beginMessage, endMessage } from '../netlink';
import {
  NFNETLINK_V0,
  NFNL_BATCH_GENID,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFNL_SUBSYS_NFTABLES,
  NftMsgName,
  familyName,
  nftMsgName,
  nftMsgType,
} from './constants';
import { Family } from './model';

export const NFGENMSG_LEN = 4;

/** Thrown when a received nf_tables message does not decode into the model. */
export class NftCodecError extends Error {
  constructor(
    message: string,
    readonly code = 'NFT_DECODE',
  ) {
    super(message);
  }
}

/** The header fields of one nf_tables request about to be written. */
export interface MessageHeader {
  /** NFT_MSG_* number. */
  msg: number;
  flags: number;
  seq: number;
  /** nfgen_family (NFPROTO_*). */
  family: number;
}

/** Starts an nf_tables message (netlink header + nfgenmsg); finish it with `endMessage`. */
export function beginNftMessage(w: AttributeWriter, h: MessageHeader): number {
  const start = beginMessage(w, nftMsgType(h.msg), h.flags | NLM_F_REQUEST, h.seq);
  writeNfgen(w, h.family, 0);
  return start;
}

function writeNfgen(w: AttributeWriter, family: number, resId: number): void {
  const at = w.reserve(NFGENMSG_LEN);
  const b = w.slice(at, at + NFGENMSG_LEN);
  b[0] = family;
  b[1] = NFNETLINK_V0;
  b.writeUInt16BE(resId, 2);
}

/**
 * NFNL_MSG_BATCH_BEGIN: family AF_UNSPEC, res_id = htons(NFNL_SUBSYS_NFTABLES), and optionally
 * NFNL_BATCH_GENID, which makes the kernel reject the whole batch with ERESTART unless the ruleset
 * generation still equals genId (nfnetlink.c nfnetlink_rcv_batch).
 */
export function writeBatchBegin(w: AttributeWriter, seq: number, genId?: number): void {
  const start = beginMessage(w, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq);
  writeNfgen(w, 0, NFNL_SUBSYS_NFTABLES);
  if (genId !== undefined) w.u32be(NFNL_BATCH_GENID, genId);
  endMessage(w, start);
}

export function writeBatchEnd(w: AttributeWriter, seq: number): void {
  const start = beginMessage(w, NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq);
  writeNfgen(w, 0, NFNL_SUBSYS_NFTABLES);
  endMessage(w, start);
}

/** A received nf_tables message with its nfgenmsg header parsed. */
export interface NftMessage {
  msg: NftMsgName;
  flags: number;
  seq: number;
  pid: number;
  /** nfgen_family as sent; `family` is its model name when the model knows it. */
  familyNumber: number;
  family: Family | undefined;
  /** Low 16 bits of the ruleset generation (kernel replies and events). */
  resId: number;
  attrs: AttributeReader;
}

/** Parses the nfgenmsg header of an nf_tables message, or returns undefined for any other message. */
export function parseNftMessage(m: NetlinkMessage): NftMessage | undefined {
  const msg = nftMsgName(m.type);
  if (msg === undefined) return undefined;
  if (m.payload.length < NFGENMSG_LEN) throw new NftCodecError(`short nf_tables message ${msg}: ${m.payload.length} bytes`);
  const familyNumber = m.payload[0];
  return {
    msg,
    flags: m.flags,
    seq: m.seq,
    pid: m.pid,
    familyNumber,
    family: familyName(familyNumber),
    resId: m.payload.readUInt16BE(2),
    attrs: new AttributeReader(m.payload, NFGENMSG_LEN),
  };
}

/** The model family of a decoded message; objects of families the model lacks cannot be decoded. */
export function requireFamily(m: NftMessage): Family {
  if (m.family === undefined) throw new NftCodecError(`${m.msg}: unknown family ${m.familyNumber}`);
  return m.family;
}

/** A string attribute that must be present. */
export function requireString(r: AttributeReader, type: number, what: string): string {
  const s = r.string(type);
  if (s === undefined) throw new NftCodecError(`${what}: attribute ${type} missing`);
  return s;
}
