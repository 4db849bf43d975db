// The nf_tables object model shared by the codec (src/nftables), the kernel client (src/kernel),
// the compiler (src/compiler) and the differ (src/reconciler). It mirrors the kernel's objects
// (include/uapi/linux/netfilter/nf_tables.h) closely enough to encode and decode them exactly, in
// nft's vocabulary where nft has a word for a thing.

export type Family = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';

export type ChainType = 'filter' | 'nat' | 'route';

export interface Table {
  family: Family;
  name: string;
  /** NFT_TABLE_F_* bits (dormant 0x1, owner 0x2, persist 0x4). */
  flags?: number;
  comment?: string;
  /** Kernel-assigned; present on decoded objects only. */
  handle?: bigint;
}

export interface BaseChainSpec {
  type: ChainType;
  hook: Hook;
  priority: number;
  policy: 'accept' | 'drop';
  /** netdev-family chains only. */
  device?: string;
}

export interface Chain {
  family: Family;
  table: string;
  name: string;
  /** Present for base chains. */
  base?: BaseChainSpec;
  comment?: string;
  handle?: bigint;
}

export type VerdictKind = 'accept' | 'drop' | 'queue' | 'continue' | 'break' | 'jump' | 'goto' | 'return';

export interface Verdict {
  kind: VerdictKind;
  /** Target chain of jump and goto. */
  chain?: string;
}

/** nf_tables registers: 0 is the verdict register, 1..4 the 16-byte ones, 8..23 the 4-byte ones. */
export type Register = number;

export type MetaKey =
  | 'len' | 'protocol' | 'priority' | 'mark' | 'iif' | 'oif' | 'iifname' | 'oifname' | 'iiftype'
  | 'oiftype' | 'skuid' | 'skgid' | 'nftrace' | 'rtclassid' | 'secmark' | 'nfproto' | 'l4proto'
  | 'bri_iifname' | 'bri_oifname' | 'pkttype' | 'cpu' | 'iifgroup' | 'oifgroup' | 'cgroup';

export type CtKey = 'state' | 'direction' | 'status' | 'mark' | 'l3protocol' | 'protocol' | 'proto_src' | 'proto_dst';

export type CmpOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte';

export type PayloadBase = 'll' | 'network' | 'transport' | 'inner';

/** One nf_tables expression. Each kind has one file in src/nftables/expr with its encoder and decoder. */
export type Expr =
  | { type: 'meta'; key: MetaKey; dreg: Register }
  | { type: 'meta'; key: MetaKey; sreg: Register }
  | { type: 'payload'; base: PayloadBase; offset: number; len: number; dreg: Register }
  | { type: 'cmp'; sreg: Register; op: CmpOp; data: Buffer }
  | { type: 'range'; sreg: Register; op: 'eq' | 'neq'; from: Buffer; to: Buffer }
  | { type: 'bitwise'; sreg: Register; dreg: Register; len: number; mask: Buffer; xor: Buffer }
  | { type: 'lookup'; set: string; sreg: Register; dreg?: Register; setId?: number; invert?: boolean }
  | { type: 'ct'; key: CtKey; dreg: Register; direction?: 'original' | 'reply' }
  | { type: 'ct'; key: CtKey; sreg: Register; direction?: 'original' | 'reply' }
  | { type: 'counter'; packets: bigint; bytes: bigint }
  | { type: 'log'; prefix?: string; level?: number; group?: number; snaplen?: number; qthreshold?: number; flags?: number }
  | { type: 'limit'; rate: bigint; unit: bigint; burst: number; limitType: 'packets' | 'bytes'; invert?: boolean }
  | { type: 'immediate'; dreg: Register; data: Buffer }
  | { type: 'immediate'; dreg: 0; verdict: Verdict }
  /** An expression this codec does not model: its name and the raw NFTA_EXPR_DATA bytes, kept intact. */
  | { type: 'opaque'; name: string; data: Buffer };

export interface Rule {
  family: Family;
  table: string;
  chain: string;
  exprs: Expr[];
  /** The rule comment (NFTNL_UDATA_RULE_COMMENT). */
  comment?: string;
  handle?: bigint;
  /** Decoded: the handle of the preceding rule. */
  position?: bigint;
}

/** NFT_SET_* flags. */
export const SetFlags = {
  anonymous: 0x1,
  constant: 0x2,
  interval: 0x4,
  map: 0x8,
  timeout: 0x10,
  eval: 0x20,
  object: 0x40,
  concat: 0x80,
  expr: 0x100,
} as const;

export interface NftSet {
  family: Family;
  table: string;
  name: string;
  /** SetFlags bits. */
  flags: number;
  /** nft datatype id (ipv4_addr 7, ...), or concatenated ids in 6-bit slots. */
  keyType: number;
  keyLen: number;
  /** Maps: data datatype (verdict maps: 0xffffff00) and length. */
  dataType?: number;
  dataLen?: number;
  /** Concatenated interval sets: the unpadded length of each field (NFTA_SET_DESC_CONCAT). */
  fieldLengths?: number[];
  /** NFTA_SET_DESC_SIZE. */
  size?: number;
  /** Key byte order for nft list: 'big' for addresses and ports, 'host' for marks and ifnames. */
  keyByteOrder?: 'host' | 'big';
  comment?: string;
  /** Transaction-local NFTA_SET_ID, for anonymous sets created in the same batch. */
  id?: number;
  handle?: bigint;
  elements?: SetElement[];
}

/** NFT_SET_ELEM_* flags. */
export const ElementFlags = { intervalEnd: 0x1, catchall: 0x2 } as const;

/** One element as the kernel stores it (an interval is two elements: start, and end with intervalEnd). */
export interface SetElement {
  key: Buffer;
  /** Concatenated-range elements: the inclusive upper key. */
  keyEnd?: Buffer;
  /** ElementFlags bits. */
  flags?: number;
  /** Map data, or a verdict for verdict maps. */
  data?: Buffer;
  verdict?: Verdict;
  comment?: string;
  /** Userdata flag INTERVAL_OPEN: a range that runs to the maximum key, with no end element. */
  open?: boolean;
}

/** A whole table as the compiler wants it or as a dump found it. */
export interface Ruleset {
  table: Table;
  chains: Chain[];
  /** Rules per chain name, in chain order. */
  rules: Map<string, Rule[]>;
  sets: NftSet[];
}
