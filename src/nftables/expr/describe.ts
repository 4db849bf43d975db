// The low-level text of one expression, in the style of `nft --debug=netlink` (libnftnl's
// src/expr/*.c snprintf functions): `[ payload load 4b @ network header + 12 => reg 1 ]`. format.ts
// falls back to it for shapes it does not recognise. Unlike libnftnl, data is printed as its wire
// bytes in order (`0x0a000001`), not as host-order 32-bit words.
import { Expr } from '../model';

const hex = (b: Buffer): string => `0x${b.toString('hex')}`;

function verdictText(v: { kind: string; chain?: string }): string {
  return v.chain !== undefined ? `${v.kind} -> ${v.chain}` : v.kind;
}

export function describeExpr(e: Expr): string {
  switch (e.type) {
    case 'meta':
      return 'dreg' in e ? `[ meta load ${e.key} => reg ${e.dreg} ]` : `[ meta set ${e.key} with reg ${e.sreg} ]`;
    case 'ct': {
      const dir = e.direction ? ` , dir ${e.direction}` : '';
      return 'dreg' in e ? `[ ct load ${e.key} => reg ${e.dreg}${dir} ]` : `[ ct set ${e.key} with reg ${e.sreg}${dir} ]`;
    }
    case 'payload':
      return `[ payload load ${e.len}b @ ${e.base === 'll' ? 'link' : e.base} header + ${e.offset} => reg ${e.dreg} ]`;
    case 'cmp':
      return `[ cmp ${e.op} reg ${e.sreg} ${hex(e.data)} ]`;
    case 'range':
      return `[ range ${e.op} reg ${e.sreg} ${hex(e.from)} ${hex(e.to)} ]`;
    case 'bitwise':
      return `[ bitwise reg ${e.dreg} = ( reg ${e.sreg} & ${hex(e.mask)} ) ^ ${hex(e.xor)} ]`;
    case 'lookup': {
      const dreg = e.dreg !== undefined ? ` dreg ${e.dreg}` : '';
      return `[ lookup reg ${e.sreg} set ${e.set}${dreg}${e.invert ? ' inverted' : ''} ]`;
    }
    case 'counter':
      return `[ counter pkts ${e.packets} bytes ${e.bytes} ]`;
    case 'log': {
      const parts = Object.entries(e).filter(([k]) => k !== 'type').map(([k, v]) => `${k} ${v}`);
      return `[ log${parts.map((p) => ` ${p}`).join('')} ]`;
    }
    case 'limit':
      return `[ limit rate ${e.rate}/${e.unit}s burst ${e.burst} type ${e.limitType}${e.invert ? ' inverted' : ''} ]`;
    case 'immediate':
      return 'verdict' in e ? `[ immediate reg 0 ${verdictText(e.verdict)} ]` : `[ immediate reg ${e.dreg} ${hex(e.data)} ]`;
    case 'opaque':
      return e.data.length ? `[ ${e.name} ${hex(e.data)} ]` : `[ ${e.name} ]`;
  }
}
