// Test-only: our expressions and set elements in libnftnl's debug notation (what
// `nft --debug=netlink -f` prints), and a reader for that output, so a test can compare what the
// compiler emits with what nft itself compiles from the same rule text, expression by expression.
import { Expr, SetElement } from '../../src/nftables/model';

/** libnftnl prints data as host-order 32-bit words (nftnl_data_reg_value_snprintf_default). */
export function words(data: Buffer): string {
  const padded = Buffer.alloc(Math.ceil(data.length / 4) * 4);
  data.copy(padded);
  const out: string[] = [];
  for (let i = 0; i < padded.length; i += 4) out.push(`0x${padded.readUInt32LE(i).toString(16).padStart(8, '0')}`);
  return out.join(' ');
}

const BASE: Record<string, string> = { ll: 'link layer', network: 'network header', transport: 'transport header' };

export function debugExpr(e: Expr): string {
  switch (e.type) {
    case 'meta':
      return 'dreg' in e ? `[ meta load ${e.key} => reg ${e.dreg} ]` : `[ meta set ${e.key} with reg ${e.sreg} ]`;
    case 'ct':
      return `[ ct load ${e.key} => reg ${'dreg' in e ? e.dreg : '?'} ]`;
    case 'cmp':
      return `[ cmp ${e.op} reg ${e.sreg} ${words(e.data)} ]`;
    case 'range':
      return `[ range ${e.op} reg ${e.sreg} ${words(e.from)} ${words(e.to)} ]`;
    case 'bitwise':
      return `[ bitwise reg ${e.dreg} = ( reg ${e.sreg} & ${words(e.mask)} ) ^ ${words(e.xor)} ]`;
    case 'payload':
      return `[ payload load ${e.len}b @ ${BASE[e.base]} + ${e.offset} => reg ${e.dreg} ]`;
    case 'lookup':
      return `[ lookup reg ${e.sreg} set ${e.set}${e.invert ? ' 0x1' : ''} ]`;
    case 'counter':
      return `[ counter pkts ${e.packets} bytes ${e.bytes} ]`;
    case 'log':
      return `[ log prefix ${e.prefix} ]`;
    case 'immediate':
      if ('verdict' in e) return `[ immediate reg 0 ${e.verdict.kind}${e.verdict.chain ? ` -> ${e.verdict.chain}` : ''} ]`;
      return `[ immediate reg ${e.dreg} ${words(e.data)} ]`;
    default:
      return `[ ${e.type} ? ]`;
  }
}

export function debugElements(elems: readonly SetElement[]): string {
  // An open interval (no end element) carries the userdata flag INTERVAL_OPEN: attribute 1, length 4, value 1.
  const open = '  userdata = { \\x01\\x04\\x01\\x00\\x00\\x00 }';
  return elems.map((e) => `element ${words(e.key).replace(/0x/g, '')}  : ${e.flags ?? 0} [end]${e.open ? open : ''}`).join('\t');
}

export interface NftDebug {
  /** Expression lines per rule, per chain, in order. */
  rules: Map<string, string[][]>;
  /** The element line of each set. */
  elements: Map<string, string>;
}

/** Reads `nft --debug=netlink -f` output for one table. */
export function parseNftDebug(text: string, family: string, table: string): NftDebug {
  const rules = new Map<string, string[][]>();
  const elements = new Map<string, string>();
  const lines = text.split('\n');
  const header = new RegExp(`^${family} ${table} (\\S+)$`);
  for (let i = 0; i < lines.length; i++) {
    const m = header.exec(lines[i]);
    if (m) {
      const exprs: string[] = [];
      while (i + 1 < lines.length && lines[i + 1].startsWith('  [')) exprs.push(lines[++i].trim());
      const list = rules.get(m[1]) ?? [];
      list.push(exprs);
      rules.set(m[1], list);
      continue;
    }
    const setLine = new RegExp(`^(\\S+) ${table} 0$`).exec(lines[i]);
    if (setLine && lines[i + 1]?.startsWith('\telement')) elements.set(setLine[1], lines[++i].trim());
  }
  return { rules, elements };
}
