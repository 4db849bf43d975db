import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { NetlinkSocket } from '../../src/netlink/socket';
import {
  SOL_NETLINK,
  SOL_SOCKET,
  SO_SNDBUF,
  SocketOptionError,
  findNetlinkSocket,
  findNetlinkSocketFd,
  getSocketOption,
  nativeSocketOptionsMissing,
  readNetlinkSockets,
  setSocketOption,
} from '../../src/netlink/sockopt';
import { NETLINK_NETFILTER } from './nft-wire';

const NETLINK_ROUTE = 0;

/** Runs `script` in a fresh node process with NetlinkSocket and the test's wire helpers (`wire`) in scope. */
function runChild(script: string, env: NodeJS.ProcessEnv = {}, wrapper: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const socketModule = path.resolve(__dirname, '../../src/netlink/socket.js');
  const wireModule = path.resolve(__dirname, 'nft-wire.js');
  const code = `const { NetlinkSocket } = require(${JSON.stringify(socketModule)});\nconst wire = require(${JSON.stringify(wireModule)});\n${script}`;
  const [cmd, ...args] = [...wrapper, process.execPath, '-e', code];
  const r = spawnSync(cmd as string, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('netlink socket options by file descriptor @kernel', () => {
  const open: NetlinkSocket[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it('the native addon is built and loadable here', () => {
    assert.equal(nativeSocketOptionsMissing(), undefined);
  });

  it('finds the fd of each socket among several, by protocol and port id', () => {
    const sizes = [96 << 10, 160 << 10, 224 << 10];
    const sockets = sizes.map((bytes) => {
      const s = new NetlinkSocket(NETLINK_NETFILTER, { sendBufferSize: bytes });
      open.push(s);
      return s;
    });
    const route = new NetlinkSocket(NETLINK_ROUTE, { sendBufferSize: 288 << 10 });
    open.push(route);

    const fds = sockets.map((s) => findNetlinkSocketFd(NETLINK_NETFILTER, s.portId));
    assert.equal(new Set(fds).size, sockets.length);
    sockets.forEach((s, i) => {
      const fd = fds[i] as number;
      // The fd names the socket's inode, and the kernel's view of it is the binding's socket.
      assert.equal(readlinkSync(`/proc/self/fd/${fd}`), `socket:[${findNetlinkSocket(NETLINK_NETFILTER, s.portId).inode}]`);
      assert.equal(getSocketOption(fd, SOL_SOCKET, SO_SNDBUF), s.sendBufferSize);
      assert.equal(s.sendBufferSize, 2 * (sizes[i] as number));
    });
    const routeFd = findNetlinkSocketFd(NETLINK_ROUTE, route.portId);
    assert.equal(getSocketOption(routeFd, SOL_SOCKET, SO_SNDBUF), 2 * (288 << 10));
    assert.ok(!fds.includes(routeFd));
  });

  it('does not confuse protocols, and forgets a closed socket', async () => {
    const s = new NetlinkSocket(NETLINK_NETFILTER);
    const port = s.portId;
    assert.ok(readNetlinkSockets().some((e) => e.protocol === NETLINK_NETFILTER && e.portId === port));
    assert.throws(() => findNetlinkSocketFd(NETLINK_ROUTE, port), { code: 'NETLINK_FD_NOT_FOUND' });
    s.close();
    // The native close runs on the next event-loop turn (NetlinkSocket.close says why).
    await new Promise((resolve) => setImmediate(resolve));
    assert.throws(() => findNetlinkSocketFd(NETLINK_NETFILTER, port), { code: 'NETLINK_FD_NOT_FOUND' });
  });

  it('names the errno of a refused option', () => {
    const s = new NetlinkSocket(NETLINK_NETFILTER);
    open.push(s);
    const fd = findNetlinkSocketFd(NETLINK_NETFILTER, s.portId);
    assert.throws(
      () => setSocketOption(fd, SOL_NETLINK, 9999, 1),
      (err: unknown) => err instanceof SocketOptionError && err.code === 'NETLINK_SOCKOPT' && err.errnoName === 'ENOPROTOOPT' && /option 9999/.test(err.message),
    );
    // stdin is not a socket.
    assert.throws(() => getSocketOption(0, SOL_SOCKET, SO_SNDBUF), (err: unknown) => err instanceof SocketOptionError && err.errnoName === 'ENOTSOCK');
  });

  it('reports what it applied: forced sizes beyond wmem_max/rmem_max and the netlink flags', () => {
    const s = new NetlinkSocket(NETLINK_NETFILTER, { sendBufferForce: 48 << 20, recvBufferForce: 40 << 20, extAck: true, capAck: true, noEnobufs: true });
    open.push(s);
    assert.deepEqual(s.applied, { sendBuffer: 'forced', recvBuffer: 'forced', extAck: true, capAck: true, noEnobufs: true });
    // The kernel doubles what it is given (sock_setsockopt); the plain options would cap at 2 * *mem_max.
    assert.equal(s.sendBufferSize, 96 << 20);
    assert.equal(s.recvBufferSize, 80 << 20);
    const fd = findNetlinkSocketFd(NETLINK_NETFILTER, s.portId);
    for (const option of [5, 10, 11]) assert.equal(getSocketOption(fd, SOL_NETLINK, option), 1, `SOL_NETLINK option ${option}`);
  });

  it('without the addon: warns once with NETLINK_NATIVE_MISSING and falls back to plain options that still work', () => {
    const r = runChild(
      `(async () => {
        const a = new NetlinkSocket(wire.NETLINK_NETFILTER, { sendBufferForce: 64 << 20, recvBufferForce: 64 << 20, extAck: true, capAck: true, noEnobufs: true });
        const b = new NetlinkSocket(wire.NETLINK_NETFILTER, { extAck: true });
        const gen = await wire.getGeneration(a);
        console.log(JSON.stringify({ applied: a.applied, b: b.applied.extAck, gen, snd: a.sendBufferSize }));
        a.close(); b.close();
      })().catch((e) => { console.error(e); process.exit(2); });`,
      { FLOCKGUARD_NATIVE_ADDON: '/nonexistent/flockguard_sockopt.node' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/NETLINK_NATIVE_MISSING/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /npm run build:native/);
    const out = JSON.parse(r.stdout) as { applied: unknown; b: boolean; gen: number; snd: number };
    assert.deepEqual(out.applied, { sendBuffer: 'plain', recvBuffer: 'plain', extAck: false, capAck: false, noEnobufs: false });
    assert.equal(out.b, false);
    assert.ok(out.gen > 0);
    // SO_SNDBUF was still asked for, and the kernel capped it at 2 * net.core.wmem_max.
    assert.ok(out.snd > 0 && out.snd <= 2 * wmemMax());
  });

  it('without CAP_NET_ADMIN the forced sizes fall back to the plain options (as nft does)', () => {
    const r = runChild(
      `const s = new NetlinkSocket(wire.NETLINK_NETFILTER, { sendBufferForce: 64 << 20, extAck: true });
       console.log(JSON.stringify({ applied: s.applied, snd: s.sendBufferSize })); s.close();`,
      {},
      ['setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin'],
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { applied: { sendBuffer: string; extAck: boolean }; snd: number };
    assert.equal(out.applied.sendBuffer, 'plain');
    assert.equal(out.applied.extAck, true);
    assert.equal(out.snd, Math.min(64 << 20, wmemMax()) * 2);
  });
});

function wmemMax(): number {
  return Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
}
