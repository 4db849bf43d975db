// One table with every object kind the agent uses, twice: as nft text (what `nft -f` loads) and as
// the model (what our client commits and what our dump must decode). Kernel tests check each side
// against the other through the real kernel.
import { Expr, NftSet, Rule, Ruleset, SetElement } from '../../src/nftables/model';
import { elementsToRanges } from '../../src/nftables';

export const FIXTURE_NFT = `
table inet fgtest {
	comment "flockguard test table"
	set nets {
		type ipv4_addr
		flags interval
		comment "blocked nets"
		elements = { 10.0.0.0/8, 172.16.0.0-172.16.0.9, 192.168.1.1 }
	}
	set everything {
		type ipv4_addr
		flags interval
		elements = { 0.0.0.0/0 }
	}
	set tail {
		type ipv4_addr
		flags interval
		elements = { 1.2.3.0/24, 255.255.255.0/24 }
	}
	set hosts {
		type ipv4_addr
		elements = { 10.0.0.1, 10.0.0.2 }
	}
	set pairs {
		type ipv4_addr . inet_service
		flags interval
		elements = { 10.0.0.0/8 . 80-90, 192.168.0.1 . 443 }
	}
	map marks {
		type ipv4_addr : mark
		elements = { 10.0.0.1 : 0x00000001 }
	}
	map jumps {
		type ifname : verdict
		elements = { "eth0" : jump c1, "lo" : accept }
	}
	chain c1 {
		counter comment "in c1"
	}
	chain pre {
		type filter hook prerouting priority -150; policy accept;
		comment "pre-DNAT"
		ip saddr @nets counter drop comment "block nets"
		iifname vmap @jumps
		counter accept
	}
}
`;

const ip = (s: string) => Buffer.from(s.split('.').map(Number));
const port = (n: number) => Buffer.from([n >> 8, n & 0xff, 0, 0]);
const ifname = (s: string) => {
  const b = Buffer.alloc(16);
  b.write(s);
  return b;
};
const F = 'inet' as const;
const T = 'fgtest';

function set(s: Omit<NftSet, 'family' | 'table'>): NftSet {
  return { family: F, table: T, ...s };
}

const end = (key: Buffer): SetElement => ({ key, flags: 1 });

export function fixtureModel(): Ruleset {
  const counter: Expr = { type: 'counter', packets: 0n, bytes: 0n };
  const rules: Rule[] = [
    {
      family: F,
      table: T,
      chain: 'pre',
      comment: 'block nets',
      exprs: [
        { type: 'meta', key: 'nfproto', dreg: 1 },
        { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([2]) },
        { type: 'payload', base: 'network', offset: 12, len: 4, dreg: 1 },
        { type: 'lookup', set: 'nets', sreg: 1 },
        counter,
        { type: 'immediate', dreg: 0, verdict: { kind: 'drop' } },
      ],
    },
    {
      family: F,
      table: T,
      chain: 'pre',
      exprs: [
        { type: 'meta', key: 'iifname', dreg: 1 },
        { type: 'lookup', set: 'jumps', sreg: 1, dreg: 0 },
      ],
    },
    { family: F, table: T, chain: 'pre', exprs: [counter, { type: 'immediate', dreg: 0, verdict: { kind: 'accept' } }] },
  ];
  return {
    table: { family: F, name: T, comment: 'flockguard test table' },
    chains: [
      { family: F, table: T, name: 'c1' },
      { family: F, table: T, name: 'pre', comment: 'pre-DNAT', base: { type: 'filter', hook: 'prerouting', priority: -150, policy: 'accept' } },
    ],
    rules: new Map([
      ['c1', [{ family: F, table: T, chain: 'c1', comment: 'in c1', exprs: [counter] }]],
      ['pre', rules],
    ]),
    sets: [
      set({
        name: 'nets',
        flags: 0x4,
        keyType: 7,
        keyLen: 4,
        keyByteOrder: 'big',
        comment: 'blocked nets',
        elements: [end(ip('0.0.0.0')), { key: ip('10.0.0.0') }, end(ip('11.0.0.0')), { key: ip('172.16.0.0') }, end(ip('172.16.0.10')), { key: ip('192.168.1.1') }, end(ip('192.168.1.2'))],
      }),
      set({ name: 'everything', flags: 0x4, keyType: 7, keyLen: 4, keyByteOrder: 'big', elements: [{ key: ip('0.0.0.0'), open: true }] }),
      set({
        name: 'tail',
        flags: 0x4,
        keyType: 7,
        keyLen: 4,
        keyByteOrder: 'big',
        elements: [end(ip('0.0.0.0')), { key: ip('1.2.3.0') }, end(ip('1.2.4.0')), { key: ip('255.255.255.0'), open: true }],
      }),
      set({ name: 'hosts', flags: 0, keyType: 7, keyLen: 4, keyByteOrder: 'big', elements: [{ key: ip('10.0.0.1') }, { key: ip('10.0.0.2') }] }),
      set({
        name: 'pairs',
        flags: 0x84,
        keyType: (7 << 6) | 13,
        keyLen: 8,
        fieldLengths: [4, 2],
        elements: [
          { key: Buffer.concat([ip('10.0.0.0'), port(80)]), keyEnd: Buffer.concat([ip('10.255.255.255'), port(90)]) },
          { key: Buffer.concat([ip('192.168.0.1'), port(443)]), keyEnd: Buffer.concat([ip('192.168.0.1'), port(443)]) },
        ],
      }),
      set({
        name: 'marks',
        flags: 0x8,
        keyType: 7,
        keyLen: 4,
        dataType: 19,
        dataLen: 4,
        keyByteOrder: 'big',
        elements: [{ key: ip('10.0.0.1'), data: hostU32(1) }],
      }),
      set({
        name: 'jumps',
        flags: 0x8,
        keyType: 41,
        keyLen: 16,
        dataType: 0xffffff00,
        dataLen: 16,
        keyByteOrder: 'host',
        elements: [
          { key: ifname('eth0'), verdict: { kind: 'jump', chain: 'c1' } },
          { key: ifname('lo'), verdict: { kind: 'accept' } },
        ],
      }),
    ],
  };
}

function hostU32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/**
 * A comparable view of a ruleset: kernel-assigned handles and positions dropped, elements in a
 * canonical order (interval sets as their ranges, since dumps return elements in any order).
 */
export function view(rs: Ruleset): unknown {
  const strip = <T extends object>(o: T): T => {
    const c = { ...o } as Record<string, unknown>;
    delete c.handle;
    delete c.position;
    delete c.id;
    return c as T;
  };
  return {
    table: strip(rs.table),
    chains: rs.chains.map(strip),
    rules: [...rs.rules].map(([chain, rules]) => [chain, rules.map(strip)]),
    sets: rs.sets.map((s) => {
      const { elements, ...rest } = strip(s);
      const els = elements ?? [];
      const canonical =
        s.flags & 0x4
          ? { ranges: elementsToRanges(els).map(([lo, hi]) => `${lo.toString('hex')}-${hi.toString('hex')}`), open: els.filter((e) => e.open).length }
          : [...els].sort((a, b) => Buffer.compare(a.key, b.key));
      return { ...rest, elements: canonical };
    }),
  };
}
