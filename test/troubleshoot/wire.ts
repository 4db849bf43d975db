// Test-only: a veth pair inside the test run's private namespace. Frames written to one end (`tx`,
// with a raw AF_PACKET socket from a small python3 helper, as the lab's icmp_echo.py does: Node has
// no raw sockets) arrive on the other end (`rx`) and traverse the prerouting hook exactly as a
// packet from the wire does. `tx` has IPv6 disabled and no addresses, so nothing but our frames
// arrives on `rx`, and what `rx` sends back dies on `tx` before any hook.
import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseIpAddress } from '../../src/policy/nets';
import { assertPrivateNetns } from '../support/kernel';

const SENDER = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin:
    s.send(bytes.fromhex(line.strip()))
    sys.stdout.write("ok\\n")
    sys.stdout.flush()
`;

export class Wire {
  readonly rx: string;
  readonly tx: string;
  readonly rxMac = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);
  readonly txMac = Buffer.from([0x02, 0, 0, 0, 0, 0x02]);
  private sender: ChildProcessWithoutNullStreams | undefined;
  private pending: Array<() => void> = [];

  constructor() {
    const tag = randomBytes(3).toString('hex');
    this.rx = `fgr${tag}`;
    this.tx = `fgt${tag}`;
  }

  open(): void {
    assertPrivateNetns();
    ip('link', 'add', this.rx, 'address', mac(this.rxMac), 'type', 'veth', 'peer', 'name', this.tx, 'address', mac(this.txMac));
    writeFileSync(`/proc/sys/net/ipv6/conf/${this.tx}/disable_ipv6`, '1');
    ip('link', 'set', this.tx, 'up');
    ip('link', 'set', this.rx, 'up');
    this.sender = spawn('python3', ['-c', SENDER, this.tx], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buffered = '';
    this.sender.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        buffered = buffered.slice(nl + 1);
        this.pending.shift()?.();
      }
    });
  }

  /** Sends one frame; resolves once the raw socket has taken it. */
  send(frame: Buffer): Promise<void> {
    const sender = this.sender;
    if (!sender) throw new Error('wire is not open');
    return new Promise((resolve) => {
      this.pending.push(resolve);
      sender.stdin.write(frame.toString('hex') + '\n');
    });
  }

  close(): void {
    this.sender?.stdin.end();
    this.sender?.kill();
    try {
      execFileSync('ip', ['link', 'del', this.rx], { stdio: 'ignore' });
    } catch {
      // Already gone with its namespace.
    }
  }
}

function mac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface FrameSpec {
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
  sport?: number;
  dport?: number;
  icmpType?: number;
  icmpCode?: number;
}

/** An Ethernet frame with a valid IPv4/IPv6 packet (checksums right, so conntrack takes it as is). */
export function buildFrame(wire: Wire, spec: FrameSpec): Buffer {
  const src = parseIpAddress(spec.src);
  const dst = parseIpAddress(spec.dst);
  const proto = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 }[spec.proto];
  const l4 = transport(spec, src.addr, dst.addr, proto, src.family);
  const l3 = src.family === 4 ? ipv4(src.addr, dst.addr, proto, l4.length) : ipv6(src.addr, dst.addr, proto, l4.length);
  const eth = Buffer.concat([wire.rxMac, wire.txMac, Buffer.from(src.family === 4 ? [0x08, 0x00] : [0x86, 0xdd])]);
  return Buffer.concat([eth, l3, l4]);
}

function transport(spec: FrameSpec, src: Buffer, dst: Buffer, proto: number, family: 4 | 6): Buffer {
  let t: Buffer;
  let csumAt: number;
  if (proto === 6) {
    t = Buffer.alloc(20);
    t.writeUInt16BE(spec.sport ?? 40000, 0);
    t.writeUInt16BE(spec.dport ?? 80, 2);
    t.writeUInt32BE(randomBytes(4).readUInt32BE(0), 4);
    t[12] = 0x50;
    t[13] = 0x02; // SYN
    t.writeUInt16BE(64240, 14);
    csumAt = 16;
  } else if (proto === 17) {
    t = Buffer.alloc(12);
    t.writeUInt16BE(spec.sport ?? 40000, 0);
    t.writeUInt16BE(spec.dport ?? 53, 2);
    t.writeUInt16BE(12, 4);
    csumAt = 6;
  } else {
    t = Buffer.alloc(16);
    t[0] = spec.icmpType ?? (proto === 1 ? 8 : 128);
    t[1] = spec.icmpCode ?? 0;
    t.writeUInt16BE(randomBytes(2).readUInt16BE(0), 4);
    t.writeUInt16BE(1, 6);
    csumAt = 2;
  }
  const pseudo = proto === 1 ? Buffer.alloc(0) : family === 4 ? pseudo4(src, dst, proto, t.length) : pseudo6(src, dst, proto, t.length);
  let sum = checksum(Buffer.concat([pseudo, t]));
  if (proto === 17 && sum === 0) sum = 0xffff;
  t.writeUInt16BE(sum, csumAt);
  return t;
}

function ipv4(src: Buffer, dst: Buffer, proto: number, payload: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload, 2);
  h.writeUInt16BE(randomBytes(2).readUInt16BE(0), 4);
  h[8] = 64;
  h[9] = proto;
  src.copy(h, 12);
  dst.copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return h;
}

function ipv6(src: Buffer, dst: Buffer, proto: number, payload: number): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload, 4);
  h[6] = proto;
  h[7] = 255;
  src.copy(h, 8);
  dst.copy(h, 24);
  return h;
}

function pseudo4(src: Buffer, dst: Buffer, proto: number, len: number): Buffer {
  const p = Buffer.alloc(12);
  src.copy(p, 0);
  dst.copy(p, 4);
  p[9] = proto;
  p.writeUInt16BE(len, 10);
  return p;
}

function pseudo6(src: Buffer, dst: Buffer, proto: number, len: number): Buffer {
  const p = Buffer.alloc(40);
  src.copy(p, 0);
  dst.copy(p, 16);
  p.writeUInt32BE(len, 32);
  p[39] = proto;
  return p;
}

/** The Internet checksum (RFC 1071). */
function checksum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length % 2) sum += data[data.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}
