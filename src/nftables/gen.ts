// The ruleset generation: GETGEN requests and NEWGEN replies and events (nf_tables_api.c
// nf_tables_getgen, nf_tables_fill_gen_info). NEWGEN carries the generation id, and the pid and
// comm of the process whose commit produced it.
import { AttributeWriter, endMessage } from '../netlink';
import { NFTA_GEN, NftMsg } from './constants';
import { NftCodecError, NftMessage, beginNftMessage } from './message';

export interface Generation {
  id: number;
  pid: number;
  procName: string;
}

/** GETGEN: family AF_UNSPEC, no attributes; answered with one NEWGEN. */
export function encodeGetGen(w: AttributeWriter, seq: number): void {
  const start = beginNftMessage(w, { msg: NftMsg.GETGEN, flags: 0, seq, family: 0 });
  endMessage(w, start);
}

export function decodeGen(m: NftMessage): Generation {
  const id = m.attrs.u32be(NFTA_GEN.ID);
  if (id === undefined) throw new NftCodecError('NEWGEN without NFTA_GEN_ID');
  return { id, pid: m.attrs.u32be(NFTA_GEN.PROC_PID) ?? 0, procName: m.attrs.string(NFTA_GEN.PROC_NAME) ?? '' };
}
