// Sets and maps: NEWSET / DELSET requests and dumped sets (nf_tables_api.c nf_tables_newset,
// nf_tables_fill_set). Attribute order follows libnftnl (set.c nftnl_set_nlmsg_build_payload), which
// nft 1.0.6 uses: TABLE, NAME, FLAGS, KEY_TYPE, KEY_LEN, DATA_TYPE, DATA_LEN, ID, DESC, USERDATA.
// The kernel only stores the datatype ids and userdata; nft needs KEYBYTEORDER (and DATABYTEORDER for
// maps) in userdata to print host-order values such as marks and interface names correctly.
import { AttributeReader, AttributeWriter, endMessage } from '../netlink';
import { NFTA_LIST_ELEM, NFTA_SET, NFTA_SET_DESC, NFTA_SET_FIELD_LEN, NFT_DATA_VERDICT, NftMsg, familyNumber } from './constants';
import { NftMessage, beginNftMessage, requireFamily, requireString } from './message';
import { NftSet, SetFlags } from './model';
import { ObjectOp } from './table';
import {
  BYTEORDER_BIG,
  BYTEORDER_HOST,
  UDATA_SET_COMMENT,
  UDATA_SET_DATABYTEORDER,
  UDATA_SET_KEYBYTEORDER,
  UdataEntry,
  commentValue,
  decodeUdata,
  encodeUdata,
  readUdataString,
  readUdataU32,
  udataU32,
} from './userdata';

/** nft datatypes whose values live in host byte order (nft datatype.h: mark, iface_index, ct_state, ct_status, ifname). */
const HOST_ORDER_TYPES = new Set([19, 20, 26, 28, 41]);

export function describeSet(s: Pick<NftSet, 'family' | 'table' | 'name' | 'flags'>): string {
  return `${s.family} ${s.table} ${s.flags & SetFlags.map ? 'map' : 'set'} ${s.name}`;
}

/** NEWSET carries the whole definition; DELSET only table and name. */
export function encodeSet(w: AttributeWriter, s: NftSet, op: ObjectOp): void {
  const start = beginNftMessage(w, { ...op, family: familyNumber(s.family) });
  w.string(NFTA_SET.TABLE, s.table);
  w.string(NFTA_SET.NAME, s.name);
  if (op.msg === NftMsg.NEWSET) writeDefinition(w, s);
  endMessage(w, start);
}

function writeDefinition(w: AttributeWriter, s: NftSet): void {
  w.u32be(NFTA_SET.FLAGS, s.flags);
  w.u32be(NFTA_SET.KEY_TYPE, s.keyType);
  w.u32be(NFTA_SET.KEY_LEN, s.keyLen);
  if (s.dataType !== undefined) {
    w.u32be(NFTA_SET.DATA_TYPE, s.dataType);
    w.u32be(NFTA_SET.DATA_LEN, s.dataLen ?? 0);
  }
  if (s.id !== undefined) w.u32be(NFTA_SET.ID, s.id);
  if (s.size !== undefined || s.fieldLengths) {
    w.nest(NFTA_SET.DESC, () => {
      if (s.size !== undefined) w.u32be(NFTA_SET_DESC.SIZE, s.size);
      // nftnl_set_nlmsg_build_desc_concat: one list element per field, its unpadded length in bytes.
      if (s.fieldLengths) {
        w.nest(NFTA_SET_DESC.CONCAT, () => {
          for (const len of s.fieldLengths ?? []) w.nest(NFTA_LIST_ELEM, () => w.u32be(NFTA_SET_FIELD_LEN, len));
        });
      }
    });
  }
  const udata = setUserdata(s);
  if (udata.length) w.bytes(NFTA_SET.USERDATA, encodeUdata(udata));
}

function setUserdata(s: NftSet): UdataEntry[] {
  const out: UdataEntry[] = [];
  if (s.keyByteOrder) out.push([UDATA_SET_KEYBYTEORDER, udataU32(s.keyByteOrder === 'host' ? BYTEORDER_HOST : BYTEORDER_BIG)]);
  if (s.dataType !== undefined && s.dataType !== NFT_DATA_VERDICT) {
    out.push([UDATA_SET_DATABYTEORDER, udataU32(HOST_ORDER_TYPES.has(s.dataType) ? BYTEORDER_HOST : BYTEORDER_BIG)]);
  }
  if (s.comment !== undefined) out.push([UDATA_SET_COMMENT, commentValue(s.comment, describeSet(s))]);
  return out;
}

export function decodeSet(m: NftMessage): NftSet {
  const r = m.attrs;
  const s: NftSet = {
    family: requireFamily(m),
    table: requireString(r, NFTA_SET.TABLE, 'set table'),
    name: requireString(r, NFTA_SET.NAME, 'set name'),
    flags: r.u32be(NFTA_SET.FLAGS) ?? 0,
    keyType: r.u32be(NFTA_SET.KEY_TYPE) ?? 0,
    keyLen: r.u32be(NFTA_SET.KEY_LEN) ?? 0,
  };
  const dataType = r.u32be(NFTA_SET.DATA_TYPE);
  if (dataType !== undefined) {
    s.dataType = dataType;
    s.dataLen = r.u32be(NFTA_SET.DATA_LEN) ?? 0;
  }
  const id = r.u32be(NFTA_SET.ID);
  if (id !== undefined) s.id = id;
  const desc = r.nest(NFTA_SET.DESC);
  if (desc) readDesc(desc, s);
  const ud = r.bytes(NFTA_SET.USERDATA);
  if (ud) readUserdata(ud, s);
  const handle = r.u64be(NFTA_SET.HANDLE);
  if (handle !== undefined) s.handle = handle;
  return s;
}

function readDesc(desc: AttributeReader, s: NftSet): void {
  const size = desc.u32be(NFTA_SET_DESC.SIZE);
  if (size !== undefined) s.size = size;
  const concat = desc.nest(NFTA_SET_DESC.CONCAT);
  if (concat) {
    s.fieldLengths = concat.entries().map(([, field]) => new AttributeReader(field).u32be(NFTA_SET_FIELD_LEN) ?? 0);
  }
}

function readUserdata(ud: Buffer, s: NftSet): void {
  const u = decodeUdata(ud);
  const order = readUdataU32(u.get(UDATA_SET_KEYBYTEORDER));
  if (order === BYTEORDER_HOST) s.keyByteOrder = 'host';
  else if (order === BYTEORDER_BIG) s.keyByteOrder = 'big';
  const comment = readUdataString(u.get(UDATA_SET_COMMENT));
  if (comment !== undefined) s.comment = comment;
}
