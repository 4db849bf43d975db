// Just enough nf_tables wire format for the socket tests, written with src/netlink only (the socket
// layer must not depend on src/nftables). Numbers from include/uapi/linux/netfilter/nf_tables.h and
// nfnetlink.h; the framing is the one `nft --debug=netlink,mnl add table inet t` shows.
import { AttributeReader, AttributeWriter, NLMSG_ERROR, NLM_F_REQUEST, NetlinkMessage, NetlinkSocket, beginMessage, endMessage } from '../../src/netlink';

export const NETLINK_NETFILTER = 12;
export const NFNLGRP_NFTABLES = 7;
const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 16;
const NFNL_MSG_BATCH_END = 17;
export const NFPROTO_INET = 1;

export const NFT_MSG_NEWTABLE = 0;
export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_NEWSET = 9;
export const NFT_MSG_NEWSETELEM = 12;
export const NFT_MSG_NEWGEN = 15;
const NFT_MSG_GETGEN = 16;

export const NFTA_TABLE_NAME = 1;
export const NFTA_TABLE_FLAGS = 2;
export const NFTA_CHAIN_TABLE = 1;
export const NFTA_CHAIN_NAME = 3;
const NFTA_GEN_ID = 1;

/** The netlink type of an nf_tables message. */
export function nftType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

/** nlmsghdr + nfgenmsg {family, version 0, be16 res_id}; `fill` adds the attributes. */
export function nfMessage(
  w: AttributeWriter,
  type: number,
  flags: number,
  seq: number,
  family: number,
  resId: number,
  fill: (w: AttributeWriter) => void = () => undefined,
): number {
  const start = beginMessage(w, type, flags, seq);
  // res_id is big-endian on the wire.
  w.put(Uint8Array.of(family, 0, resId >> 8, resId & 0xff));
  fill(w);
  endMessage(w, start);
  return start;
}

/** BATCH_BEGIN (res_id = NFNL_SUBSYS_NFTABLES), the messages `fill` writes, BATCH_END. */
export function batch(socket: NetlinkSocket, fill: (w: AttributeWriter, seq: () => number) => void, initialSize = 1 << 16): Buffer {
  const w = new AttributeWriter(initialSize);
  nfMessage(w, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, socket.nextSeq(), 0, NFNL_SUBSYS_NFTABLES);
  fill(w, () => socket.nextSeq());
  nfMessage(w, NFNL_MSG_BATCH_END, NLM_F_REQUEST, socket.nextSeq(), 0, NFNL_SUBSYS_NFTABLES);
  return w.toBuffer();
}

/** NFTA_GEN_ID of a NEWGEN message (reply to GETGEN, or the event closing a commit). */
export function generationId(m: NetlinkMessage): number | undefined {
  if (m.type !== nftType(NFT_MSG_NEWGEN)) return undefined;
  return new AttributeReader(m.payload, 4).u32be(NFTA_GEN_ID);
}

/** GETGEN over `socket`: the current generation id, and every message received up to its reply. */
export async function getGeneration(socket: NetlinkSocket): Promise<number> {
  return (await sync(socket)).generation;
}

async function sync(socket: NetlinkSocket): Promise<{ generation: number; replies: NetlinkMessage[] }> {
  const w = new AttributeWriter();
  const seq = socket.nextSeq();
  nfMessage(w, nftType(NFT_MSG_GETGEN), NLM_F_REQUEST, seq, 0, 0);
  const replies = await socket.exchange([w.toBuffer()], seq);
  const generation = replies.map(generationId).find((g) => g !== undefined);
  if (generation === undefined) throw new Error(`GETGEN: no NEWGEN among ${replies.length} replies`);
  return { generation, replies };
}

/**
 * Sends a batch in one sendmsg, then GETGEN as a completion sentinel (nfnetlink handles the batch
 * inside sendmsg, and unicast replies are FIFO, so every batch error precedes the NEWGEN reply).
 * Returns the error replies and the generation after the batch.
 */
export async function sendBatch(socket: NetlinkSocket, buffer: Buffer): Promise<{ errors: NetlinkMessage[]; generation: number }> {
  const early: NetlinkMessage[] = [];
  socket.onUnsolicited((messages) => early.push(...messages));
  await socket.send([buffer]);
  const { generation, replies } = await sync(socket);
  return { errors: [...early, ...replies].filter((m) => m.type === NLMSG_ERROR), generation };
}
