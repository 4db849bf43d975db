// Set elements: NEWSETELEM / DELSETELEM requests and dumped elements (nf_tables_api.c
// nft_add_set_elem, nf_tables_fill_setelem). A nest's length is 16 bits, so long element lists are
// split over several messages of the same batch, each with its own seq, the way nft does
// (mnl.c mnl_nft_setelem_batch; gnft keeps 65535 - 1024 bytes per message, PR #303).
import { AttributeReader, AttributeWriter, endMessage } from '../netlink';
import { NLA_HDRLEN, NLA_TYPE_MASK } from '../netlink/constants';
import { NFTA_SET_ELEM, NFTA_SET_ELEM_LIST, familyNumber } from './constants';
import { NFTA_DATA_VALUE, readData, writeData } from './data';
import { NftCodecError, NftMessage, beginNftMessage, requireFamily, requireString } from './message';
import { Family, NftSet, SetElement } from './model';
import {
  SET_ELEM_F_INTERVAL_OPEN,
  UDATA_COMMENT,
  UDATA_SET_ELEM_FLAGS,
  UdataEntry,
  commentValue,
  decodeUdata,
  encodeUdata,
  readUdataString,
  readUdataU32,
  udataU32,
} from './userdata';
import { readVerdict, writeVerdict } from './verdict';

/** Encoded elements per message: below 65535 with room for the largest element (< 1 KiB). */
export const ELEMENTS_PER_NEST_BYTES = 65535 - 1024;

export type SetRef = Pick<NftSet, 'family' | 'table' | 'name'> & { id?: number };

export interface ElementsOp {
  msg: number;
  flags: number;
}

/**
 * Writes NEWSETELEM or DELSETELEM messages for `elements`, as many as the 16-bit nest length needs,
 * taking a fresh seq for each from `nextSeq`. Returns the seqs used, in order. No elements, no message.
 */
export function encodeSetElements(
  w: AttributeWriter,
  set: SetRef,
  elements: readonly SetElement[],
  op: ElementsOp,
  nextSeq: () => number,
): number[] {
  const seqs: number[] = [];
  let i = 0;
  while (i < elements.length) {
    const seq = nextSeq();
    seqs.push(seq);
    const start = beginNftMessage(w, { ...op, seq, family: familyNumber(set.family) });
    w.string(NFTA_SET_ELEM_LIST.TABLE, set.table);
    w.string(NFTA_SET_ELEM_LIST.SET, set.name);
    if (set.id !== undefined) w.u32be(NFTA_SET_ELEM_LIST.SET_ID, set.id);
    const list = w.beginNest(NFTA_SET_ELEM_LIST.ELEMENTS);
    // nft numbers the element nests 1, 2, 3...; the kernel ignores the type.
    let n = 1;
    while (i < elements.length && w.length - list < ELEMENTS_PER_NEST_BYTES) {
      writeElement(w, n++, elements[i++]);
    }
    w.endNest(list);
    endMessage(w, start);
  }
  return seqs;
}

/** One element nest; order as libnftnl (set_elem.c): FLAGS, KEY, KEY_END, DATA, USERDATA. */
function writeElement(w: AttributeWriter, n: number, e: SetElement): void {
  const nest = w.beginNest(n);
  if (e.flags) w.u32be(NFTA_SET_ELEM.FLAGS, e.flags);
  writeData(w, NFTA_SET_ELEM.KEY, e.key);
  if (e.keyEnd) writeData(w, NFTA_SET_ELEM.KEY_END, e.keyEnd);
  if (e.verdict) writeVerdict(w, NFTA_SET_ELEM.DATA, e.verdict);
  else if (e.data) writeData(w, NFTA_SET_ELEM.DATA, e.data);
  if (e.comment !== undefined || e.open) {
    const ud: UdataEntry[] = [];
    if (e.comment !== undefined) ud.push([UDATA_COMMENT, commentValue(e.comment, 'set element')]);
    if (e.open) ud.push([UDATA_SET_ELEM_FLAGS, udataU32(SET_ELEM_F_INTERVAL_OPEN)]);
    w.bytes(NFTA_SET_ELEM.USERDATA, encodeUdata(ud));
  }
  w.endNest(nest);
}

export interface DecodedElements {
  family: Family;
  table: string;
  set: string;
  elements: SetElement[];
}

export function decodeSetElements(m: NftMessage): DecodedElements {
  const r = m.attrs;
  const out: DecodedElements = {
    family: requireFamily(m),
    table: requireString(r, NFTA_SET_ELEM_LIST.TABLE, 'element list table'),
    set: requireString(r, NFTA_SET_ELEM_LIST.SET, 'element list set'),
    elements: [],
  };
  const list = r.bytes(NFTA_SET_ELEM_LIST.ELEMENTS);
  // Dumps number every element NFTA_LIST_ELEM; requests number them 1..n: accept any type.
  if (list) forEachAttr(list, 0, list.length, (_type, at, end) => out.elements.push(readElement(list, at, end)));
  return out;
}

/**
 * Walks the attributes in buf[start, end), calling fn with each one's type and payload bounds. Set
 * dumps hold hundreds of thousands of elements, so elements are read in place, without building an
 * AttributeReader per element and per key.
 */
function forEachAttr(buf: Buffer, start: number, end: number, fn: (type: number, at: number, end: number) => void): void {
  let pos = start;
  while (pos + NLA_HDRLEN <= end) {
    const len = buf.readUInt16LE(pos);
    if (len < NLA_HDRLEN || pos + len > end) throw new NftCodecError(`truncated set element attribute at offset ${pos}`);
    fn(buf.readUInt16LE(pos + 2) & NLA_TYPE_MASK, pos + NLA_HDRLEN, pos + len);
    pos += (len + 3) & ~3;
  }
}

/** The NFTA_DATA_VALUE inside a data nest, copied (decoded elements outlive the datagram). */
function dataValue(buf: Buffer, start: number, end: number): Buffer | undefined {
  let value: Buffer | undefined;
  forEachAttr(buf, start, end, (type, at, stop) => {
    if (type === NFTA_DATA_VALUE) value = Buffer.from(buf.subarray(at, stop));
  });
  return value;
}

function readElement(buf: Buffer, start: number, end: number): SetElement {
  let key: Buffer | undefined;
  const e = {} as SetElement;
  forEachAttr(buf, start, end, (type, at, stop) => {
    switch (type) {
      case NFTA_SET_ELEM.KEY:
        key = dataValue(buf, at, stop);
        break;
      case NFTA_SET_ELEM.FLAGS: {
        const flags = buf.readUInt32BE(at);
        if (flags) e.flags = flags;
        break;
      }
      case NFTA_SET_ELEM.KEY_END:
        e.keyEnd = dataValue(buf, at, stop);
        break;
      case NFTA_SET_ELEM.DATA: {
        const wrapper = new AttributeReader(buf.subarray(at - NLA_HDRLEN, stop));
        const verdict = readVerdict(wrapper, NFTA_SET_ELEM.DATA);
        if (verdict) e.verdict = verdict;
        else e.data = readData(wrapper, NFTA_SET_ELEM.DATA);
        break;
      }
      case NFTA_SET_ELEM.USERDATA:
        readElementUserdata(buf.subarray(at, stop), e);
        break;
    }
  });
  if (!key) throw new NftCodecError('set element without a key');
  // The key first, as the model lists it; the other fields as found.
  return Object.assign({ key }, e);
}

function readElementUserdata(ud: Buffer, e: SetElement): void {
  const u = decodeUdata(ud);
  const comment = readUdataString(u.get(UDATA_COMMENT));
  if (comment !== undefined) e.comment = comment;
  if ((readUdataU32(u.get(UDATA_SET_ELEM_FLAGS)) ?? 0) & SET_ELEM_F_INTERVAL_OPEN) e.open = true;
}
