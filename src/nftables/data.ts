// nf_tables data attributes (include/uapi/linux/netfilter/nf_tables.h, enum nft_data_attributes):
// a nest holding either NFTA_DATA_VALUE (raw register bytes, at most NFT_DATA_VALUE_MAXLEN = 64)
// or NFTA_DATA_VERDICT (see verdict.ts). The kernel parses both in nft_data_init
// (net/netfilter/nf_tables_api.c); libnftnl builds them in nftnl_data_reg_value_build.
import { AttributeReader, AttributeWriter } from '../netlink';

export const NFTA_DATA_VALUE = 1;
export const NFTA_DATA_VERDICT = 2;

/** NFT_DATA_VALUE_MAXLEN: the kernel refuses longer values with EINVAL. */
export const DATA_VALUE_MAXLEN = 64;

/** Thrown when a data value cannot be encoded. */
export class DataError extends Error {
  readonly code = 'NFT_BAD_DATA';
}

/** Writes attribute `type` as a nest {NFTA_DATA_VALUE value}. */
export function writeData(w: AttributeWriter, type: number, value: Buffer): void {
  if (value.length === 0 || value.length > DATA_VALUE_MAXLEN) {
    throw new DataError(`data value of ${value.length} bytes (attribute ${type}): must be 1..${DATA_VALUE_MAXLEN} bytes`);
  }
  w.nest(type, () => w.bytes(NFTA_DATA_VALUE, value));
}

/** Reads the NFTA_DATA_VALUE inside attribute `type`; undefined when absent (or a verdict). */
export function readData(r: AttributeReader, type: number): Buffer | undefined {
  const value = r.nest(type)?.bytes(NFTA_DATA_VALUE);
  // A copy: decoded expressions outlive the datagram they came from.
  return value ? Buffer.from(value) : undefined;
}
