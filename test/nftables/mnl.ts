// Reads the message dumps that `nft --debug=mnl` prints (libmnl mnl_nlmsg_fprintf) back into bytes,
// so that golden files keep nft's own output verbatim. libmnl prints the netlink header flags only as
// the letters R, M, A, E (0x1, 0x2, 0x4, 0x8): the higher flag bits are not in the dump.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

export interface MnlMessage {
  type: number;
  /** Only the bits libmnl prints (0xf). */
  flagsLow: number;
  seq: number;
  /** The whole message as nft sent it, with the high flag bits cleared. */
  bytes: Buffer;
}

const FLAG_LETTERS: Record<string, number> = { R: 0x1, M: 0x2, A: 0x4, E: 0x8 };

export function parseMnl(text: string): MnlMessage[] {
  const out: MnlMessage[] = [];
  let cur: { type: number; flags: number; seq: number; pid: number; len: number; body: number[] } | undefined;
  const finish = () => {
    if (!cur) return;
    const b = Buffer.alloc(16 + cur.body.length);
    b.writeUInt32LE(cur.len, 0);
    b.writeUInt16LE(cur.type, 4);
    b.writeUInt16LE(cur.flags, 6);
    b.writeUInt32LE(cur.seq, 8);
    b.writeUInt32LE(cur.pid, 12);
    Buffer.from(cur.body).copy(b, 16);
    out.push({ type: cur.type, flagsLow: cur.flags, seq: cur.seq, bytes: b.subarray(0, (cur.len + 3) & ~3) });
    cur = undefined;
  };
  for (const line of text.split('\n')) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^\|\s+(\d+)\s+\|\s+\| message length \|/))) {
      finish();
      cur = { type: 0, flags: 0, seq: 0, pid: 0, len: Number(m[1]), body: [] };
    } else if (!cur) {
      continue;
    } else if ((m = line.match(/^\| (\d{5}) \| ([RMAE-]{4}) \|\s+\|\s+type \| flags/))) {
      cur.type = Number(m[1]);
      for (const ch of m[2]) cur.flags |= FLAG_LETTERS[ch] ?? 0;
    } else if ((m = line.match(/^\|\s+(\d+)\s+\|\s+\| sequence number\|/))) {
      cur.seq = Number(m[1]);
    } else if ((m = line.match(/^\|\s+(\d+)\s+\|\s+\|\s+port ID\s+\|/))) {
      cur.pid = Number(m[1]);
    } else if ((m = line.match(/^\| ((?:[0-9a-f]{2} ){4}) \|\s+\|\s+(?:extra header|data)\s+\|/))) {
      for (const h of m[1].trim().split(' ')) cur.body.push(parseInt(h, 16));
    } else if ((m = line.match(/^\|(\d{5})\|([NB-]{2})\|(\d{5})\|\s+\|len \|flags\| type\|/))) {
      const type = Number(m[3]) | (m[2].includes('N') ? 0x8000 : 0) | (m[2].includes('B') ? 0x4000 : 0);
      const len = Number(m[1]);
      cur.body.push(len & 0xff, len >> 8, type & 0xff, type >> 8);
    }
  }
  finish();
  return out;
}

/** The repository root (where package.json is), wherever the compiled tests run from. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'tsconfig.json')) === false) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

/** A golden file: the nft command it was captured from (first line) and the messages of its batch. */
export function loadGolden(name: string): { command: string; batch: MnlMessage[] } {
  const text = readFileSync(join(repoRoot(), 'test', 'nftables', 'golden', `${name}.mnl`), 'utf8');
  const command = text.split('\n')[0].replace(/^# /, '');
  const all = parseMnl(text);
  const begin = all.findIndex((m) => m.type === 16);
  return { command, batch: all.slice(begin) };
}
