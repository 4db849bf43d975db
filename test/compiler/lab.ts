// Test-only packet lab: a client namespace (`ip netns add`, unique name, removed in close()) joined
// to the test's own namespace by a veth pair, so the client's packets really arrive on an interface
// here and traverse prerouting. TCP listeners run in this process; the client connects with bash's
// /dev/tcp under `timeout`, so a dropped SYN shows as a failed connect.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { assertPrivateNetns as assertOwnNetns } from '../support/kernel';

export class PacketLab {
  readonly serverIf: string;
  readonly clientNs: string;
  readonly server4 = '10.99.0.1';
  readonly client4 = '10.99.0.2';
  readonly server6 = 'fd99::1';
  readonly client6 = 'fd99::2';
  private readonly servers: net.Server[] = [];

  constructor() {
    const tag = randomBytes(3).toString('hex');
    this.serverIf = `fgs${tag}`;
    this.clientNs = `fgc-${tag}`;
  }

  async open(ports: number[]): Promise<void> {
    assertOwnNetns();
    const clientIf = `${this.serverIf}p`;
    ip('netns', 'add', this.clientNs);
    ip('link', 'add', this.serverIf, 'type', 'veth', 'peer', 'name', clientIf);
    ip('link', 'set', clientIf, 'netns', this.clientNs);
    ip('link', 'set', 'lo', 'up');
    ip('addr', 'add', `${this.server4}/24`, 'dev', this.serverIf);
    ip('-6', 'addr', 'add', `${this.server6}/64`, 'dev', this.serverIf, 'nodad');
    ip('link', 'set', this.serverIf, 'up');
    const inClient = (...args: string[]) => ip('-n', this.clientNs, ...args);
    inClient('link', 'set', 'lo', 'up');
    inClient('addr', 'add', `${this.client4}/24`, 'dev', clientIf);
    inClient('-6', 'addr', 'add', `${this.client6}/64`, 'dev', clientIf, 'nodad');
    inClient('link', 'set', clientIf, 'up');
    for (const port of ports) {
      const s = net.createServer((sock) => sock.destroy());
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen({ port, host: '::', ipv6Only: false }, resolve));
      this.servers.push(s);
    }
  }

  /** Whether a TCP connect from the client to the server address and port completes within 1 s. */
  async connects(port: number, family: 4 | 6 = 4): Promise<boolean> {
    const host = family === 4 ? this.server4 : this.server6;
    const r = spawnSync('ip', ['netns', 'exec', this.clientNs, 'timeout', '1', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`], {
      stdio: 'ignore',
    });
    return r.status === 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
    spawnSync('ip', ['link', 'del', this.serverIf], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', this.clientNs], { stdio: 'ignore' });
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
