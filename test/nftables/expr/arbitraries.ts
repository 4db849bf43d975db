// fast-check generators for every expression the model can hold, in the canonical form decode
// yields (invert present only when true, absent optional fields rather than undefined ones).
import fc from 'fast-check';
import { CtKey, Expr, MetaKey, VerdictKind } from '../../../src/nftables/model';

const META_KEYS: MetaKey[] = [
  'len', 'protocol', 'priority', 'mark', 'iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype', 'skuid', 'skgid',
  'nftrace', 'rtclassid', 'secmark', 'nfproto', 'l4proto', 'bri_iifname', 'bri_oifname', 'pkttype', 'cpu', 'iifgroup',
  'oifgroup', 'cgroup',
];
const CT_KEYS: CtKey[] = ['state', 'direction', 'status', 'mark', 'l3protocol', 'protocol', 'proto_src', 'proto_dst'];

const reg = fc.constantFrom(0, 1, 2, 3, 4, ...Array.from({ length: 16 }, (_, i) => 8 + i));
const dataReg = reg.filter((r) => r !== 0);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const value = (min = 1, max = 64) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
/** A string the kernel takes as NUL-terminated: no NUL inside, at most `max` UTF-8 bytes. */
const cstring = (min: number, max: number) =>
  fc.fullUnicodeString({ minLength: min, maxLength: max }).filter((s) => !s.includes('\0') && Buffer.byteLength(s) <= max);
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
/** Drops keys whose value is undefined, as decode never sets them. */
const compact = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const verdictKinds: VerdictKind[] = ['accept', 'drop', 'queue', 'continue', 'break', 'return'];

export const expr: fc.Arbitrary<Expr> = fc.oneof(
  fc.record({ type: fc.constant('meta' as const), key: fc.constantFrom(...META_KEYS), dreg: reg }),
  fc.record({ type: fc.constant('meta' as const), key: fc.constantFrom(...META_KEYS), sreg: reg }),
  fc.record({
    type: fc.constant('payload' as const),
    base: fc.constantFrom('ll' as const, 'network' as const, 'transport' as const, 'inner' as const),
    offset: fc.integer({ min: 0, max: 255 }),
    len: fc.integer({ min: 1, max: 64 }),
    dreg: reg,
  }),
  fc.record({ type: fc.constant('cmp' as const), sreg: reg, op: fc.constantFrom('eq' as const, 'neq' as const, 'lt' as const, 'lte' as const, 'gt' as const, 'gte' as const), data: value() }),
  fc.integer({ min: 1, max: 64 }).chain((n) =>
    fc.record({ type: fc.constant('range' as const), sreg: reg, op: fc.constantFrom('eq' as const, 'neq' as const), from: value(n, n), to: value(n, n) }),
  ),
  fc.integer({ min: 1, max: 64 }).chain((len) =>
    fc.record({ type: fc.constant('bitwise' as const), sreg: reg, dreg: reg, len: fc.constant(len), mask: value(len, len), xor: value(len, len) }),
  ),
  fc
    .record({ set: cstring(1, 255), sreg: reg, dreg: optional(reg), setId: optional(u32), invert: optional(fc.constant(true as const)) })
    .map((l): Expr => compact({ type: 'lookup', ...l })),
  fc
    .record({ key: fc.constantFrom(...CT_KEYS), dreg: reg, direction: optional(fc.constantFrom('original' as const, 'reply' as const)) })
    .map((c): Expr => compact({ type: 'ct', ...c })),
  fc
    .record({ key: fc.constantFrom(...CT_KEYS), sreg: reg, direction: optional(fc.constantFrom('original' as const, 'reply' as const)) })
    .map((c): Expr => compact({ type: 'ct', ...c })),
  fc.record({ type: fc.constant('counter' as const), packets: u64, bytes: u64 }),
  fc
    .record({ prefix: optional(cstring(0, 127)), level: optional(fc.integer({ min: 0, max: 8 })), flags: optional(fc.subarray([0x1, 0x2, 0x4, 0x8, 0x20]).map((b) => b.reduce((a, x) => a | x, 0))) })
    .map((l): Expr => compact({ type: 'log', ...l })),
  fc
    .record({ prefix: optional(cstring(0, 127)), group: u16, snaplen: optional(u32), qthreshold: optional(u16) })
    .map((l): Expr => compact({ type: 'log', ...l })),
  fc
    .record({
      rate: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
      unit: fc.constantFrom(1n, 60n, 3600n, 86400n, 604800n),
      burst: u32,
      limitType: fc.constantFrom('packets' as const, 'bytes' as const),
      invert: optional(fc.constant(true as const)),
    })
    .map((l): Expr => compact({ type: 'limit', ...l })),
  fc.record({ type: fc.constant('immediate' as const), dreg: dataReg, data: value() }),
  fc.constantFrom(...verdictKinds).map((kind): Expr => ({ type: 'immediate', dreg: 0, verdict: { kind } })),
  fc
    .record({ kind: fc.constantFrom('jump' as const, 'goto' as const), chain: cstring(1, 255) })
    .map((verdict): Expr => ({ type: 'immediate', dreg: 0, verdict })),
  // Names with no codec, and raw data (any bytes: the registry never looks inside).
  fc
    .record({ name: fc.constantFrom('fib', 'nat', 'reject', 'quota', 'dynset', 'notrack', 'exthdr'), data: value(0, 200) })
    .map((o): Expr => ({ type: 'opaque', ...o })),
);
