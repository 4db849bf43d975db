// nfnetlink and nf_tables constants (include/uapi/linux/netfilter/nfnetlink.h and nf_tables.h),
// and the mappings between the kernel's numbers and the model's words (Family, Hook).
import { Family, Hook } from './model';

export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 16;
export const NFNL_MSG_BATCH_END = 17;
export const NFNL_BATCH_GENID = 1;
export const NFNETLINK_V0 = 0;

/** Multicast groups (enum nfnetlink_groups). */
export const NFNLGRP_NFTABLES = 7;
export const NFNLGRP_NFTRACE = 9;

/** enum nf_tables_msg_types. */
export const NftMsg = {
  NEWTABLE: 0,
  GETTABLE: 1,
  DELTABLE: 2,
  NEWCHAIN: 3,
  GETCHAIN: 4,
  DELCHAIN: 5,
  NEWRULE: 6,
  GETRULE: 7,
  DELRULE: 8,
  NEWSET: 9,
  GETSET: 10,
  DELSET: 11,
  NEWSETELEM: 12,
  GETSETELEM: 13,
  DELSETELEM: 14,
  NEWGEN: 15,
  GETGEN: 16,
  TRACE: 17,
} as const;

export type NftMsgName = keyof typeof NftMsg;

const msgNames = new Map<number, NftMsgName>(Object.entries(NftMsg).map(([k, v]) => [v, k as NftMsgName]));

/** The netlink message type of an nf_tables message: subsystem in the high byte. */
export function nftMsgType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

/** The NFT_MSG_* name of a netlink message type, or undefined when it is not an nf_tables message. */
export function nftMsgName(type: number): NftMsgName | undefined {
  if (type >> 8 !== NFNL_SUBSYS_NFTABLES) return undefined;
  return msgNames.get(type & 0xff);
}

export const NFTA_LIST_ELEM = 1;

export const NFTA_TABLE = { NAME: 1, FLAGS: 2, USE: 3, HANDLE: 4, PAD: 5, USERDATA: 6, OWNER: 7 } as const;

export const NFTA_CHAIN = {
  TABLE: 1,
  HANDLE: 2,
  NAME: 3,
  HOOK: 4,
  POLICY: 5,
  USE: 6,
  TYPE: 7,
  COUNTERS: 8,
  PAD: 9,
  FLAGS: 10,
  ID: 11,
  USERDATA: 12,
} as const;

export const NFTA_HOOK = { HOOKNUM: 1, PRIORITY: 2, DEV: 3, DEVS: 4 } as const;

export const NFTA_RULE = {
  TABLE: 1,
  CHAIN: 2,
  HANDLE: 3,
  EXPRESSIONS: 4,
  COMPAT: 5,
  POSITION: 6,
  USERDATA: 7,
  PAD: 8,
  ID: 9,
  POSITION_ID: 10,
  CHAIN_ID: 11,
} as const;

export const NFTA_SET = {
  TABLE: 1,
  NAME: 2,
  FLAGS: 3,
  KEY_TYPE: 4,
  KEY_LEN: 5,
  DATA_TYPE: 6,
  DATA_LEN: 7,
  POLICY: 8,
  DESC: 9,
  ID: 10,
  TIMEOUT: 11,
  GC_INTERVAL: 12,
  USERDATA: 13,
  PAD: 14,
  OBJ_TYPE: 15,
  HANDLE: 16,
} as const;

export const NFTA_SET_DESC = { SIZE: 1, CONCAT: 2 } as const;
export const NFTA_SET_FIELD_LEN = 1;

export const NFTA_SET_ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3, SET_ID: 4 } as const;

export const NFTA_SET_ELEM = {
  KEY: 1,
  DATA: 2,
  FLAGS: 3,
  TIMEOUT: 4,
  EXPIRATION: 5,
  USERDATA: 6,
  EXPR: 7,
  PAD: 8,
  OBJREF: 9,
  KEY_END: 10,
  EXPRESSIONS: 11,
} as const;

export const NFTA_GEN = { ID: 1, PROC_PID: 2, PROC_NAME: 3 } as const;

export const NFTA_TRACE = {
  TABLE: 1,
  CHAIN: 2,
  RULE_HANDLE: 3,
  TYPE: 4,
  VERDICT: 5,
  ID: 6,
  LL_HEADER: 7,
  NETWORK_HEADER: 8,
  TRANSPORT_HEADER: 9,
  IIF: 10,
  IIFTYPE: 11,
  OIF: 12,
  OIFTYPE: 13,
  MARK: 14,
  NFPROTO: 15,
  POLICY: 16,
} as const;

/** enum nft_trace_types. */
export const NFT_TRACETYPE = { POLICY: 1, RETURN: 2, RULE: 3 } as const;

/** NFT_DATA_VERDICT: a set's data type for verdict maps. */
export const NFT_DATA_VERDICT = 0xffffff00;

const familyNumbers: Record<Family, number> = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 };
const familyNames = new Map<number, Family>(
  Object.entries(familyNumbers).map(([k, v]) => [v, k as Family]),
);

/** nfgen_family of a model family (NFPROTO_*). */
export function familyNumber(f: Family): number {
  return familyNumbers[f];
}

/** The model family of an NFPROTO_* number, or undefined for one the model does not know. */
export function familyName(n: number): Family | undefined {
  return familyNames.get(n);
}

/** NF_INET_* hook numbers; netdev has its own numbering (ingress 0, egress 1). */
const inetHooks: Record<Exclude<Hook, 'egress'>, number> = {
  prerouting: 0,
  input: 1,
  forward: 2,
  output: 3,
  postrouting: 4,
  ingress: 5,
};
const inetHookNames: Hook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress'];

export function hookNumber(family: Family, hook: Hook): number {
  if (family === 'netdev') {
    if (hook === 'ingress') return 0;
    if (hook === 'egress') return 1;
    throw new RangeError(`hook ${hook} does not exist in the netdev family`);
  }
  if (hook === 'egress') throw new RangeError(`hook egress exists only in the netdev family, not ${family}`);
  return inetHooks[hook];
}

export function hookName(family: Family, n: number): Hook {
  if (family === 'netdev') {
    if (n === 0) return 'ingress';
    if (n === 1) return 'egress';
  } else if (inetHookNames[n]) {
    return inetHookNames[n];
  }
  throw new RangeError(`unknown hook number ${n} in family ${family}`);
}
