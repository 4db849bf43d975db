// Tables: NEWTABLE / DELTABLE requests and the NEWTABLE messages of dumps and events
// (nf_tables_api.c nf_tables_newtable, nf_tables_fill_table_info). nft always sends FLAGS (0 for
// none) and keeps the comment in userdata (NFTNL_UDATA_TABLE_COMMENT).
import { AttributeWriter, endMessage } from '../netlink';
import { NFTA_TABLE, NftMsg, familyNumber } from './constants';
import { NftMessage, beginNftMessage, requireFamily, requireString } from './message';
import { Table } from './model';
import { UDATA_COMMENT, commentValue, decodeUdata, encodeUdata, readUdataString } from './userdata';

/** The operation and header fields of one object request. */
export interface ObjectOp {
  msg: number;
  flags: number;
  seq: number;
}

export function describeTable(t: Pick<Table, 'family' | 'name'>): string {
  return `table ${t.family} ${t.name}`;
}

/** NEWTABLE carries flags and comment; DELTABLE only the name. */
export function encodeTable(w: AttributeWriter, t: Table, op: ObjectOp): void {
  const start = beginNftMessage(w, { ...op, family: familyNumber(t.family) });
  w.string(NFTA_TABLE.NAME, t.name);
  if (op.msg === NftMsg.NEWTABLE) {
    w.u32be(NFTA_TABLE.FLAGS, t.flags ?? 0);
    if (t.comment !== undefined) {
      w.bytes(NFTA_TABLE.USERDATA, encodeUdata([[UDATA_COMMENT, commentValue(t.comment, describeTable(t))]]));
    }
  }
  endMessage(w, start);
}

export function decodeTable(m: NftMessage): Table {
  const r = m.attrs;
  const t: Table = { family: requireFamily(m), name: requireString(r, NFTA_TABLE.NAME, 'table name') };
  const flags = r.u32be(NFTA_TABLE.FLAGS);
  if (flags) t.flags = flags;
  const ud = r.bytes(NFTA_TABLE.USERDATA);
  const comment = ud && readUdataString(decodeUdata(ud).get(UDATA_COMMENT));
  if (comment !== undefined) t.comment = comment;
  const handle = r.u64be(NFTA_TABLE.HANDLE);
  if (handle !== undefined) t.handle = handle;
  return t;
}
