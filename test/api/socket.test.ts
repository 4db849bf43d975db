// The socket as an attack surface: who may connect (file mode and group), and what garbage,
// truncated and oversized input does (fails that peer only; the next client is served).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as path from 'node:path';
import { ApiClient } from '../../src/api/client';
import { messageType } from '../../src/api/proto';
import { startApiServer } from '../../src/api/server';
import { resolveGroup } from '../../src/api/socket-file';
import { FakeAgent } from './fake-agent';
import { startFakeAgent, tempDir, type RunningAgent } from './helpers';

const NETSET = 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: a}\nspec: {nets: [10.0.0.0/8]}\n';

/** Tries connect(2) on the socket as another uid/gid; returns the errno or "connected". */
function connectAs(socketPath: string, uid: number, gid: number): string {
  const script = `const s=require('net').connect(${JSON.stringify(socketPath)});` +
    `s.on('connect',()=>{process.stdout.write('connected');s.destroy()});s.on('error',e=>process.stdout.write(e.code))`;
  const r = spawnSync(process.execPath, ['-e', script], { uid, gid, encoding: 'utf8', timeout: 10_000 });
  return r.stdout;
}

async function statusWorks(socketPath: string): Promise<void> {
  const client = await ApiClient.connect(socketPath);
  try {
    assert.equal((await client.status()).agentUp, true);
  } finally {
    client.close();
  }
}

function waitClosed(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Sends one gRPC call with a hand-made body over raw HTTP/2; resolves with grpc-status. */
function rawGrpcCall(socketPath: string, method: string, body: Buffer): Promise<{ status: string | undefined; message: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(socketPath) });
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': `/flockguard.v1.Agent/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: string | undefined;
    let message: string | undefined;
    const take = (headers: http2.IncomingHttpHeaders): void => {
      status ??= headers['grpc-status'] as string | undefined;
      message ??= headers['grpc-message'] as string | undefined;
    };
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', () => undefined);
    req.on('error', reject);
    req.on('close', () => {
      session.close();
      resolve({ status, message: message && decodeURIComponent(message) });
    });
    req.end(body);
  });
}

function grpcFrame(payload: Buffer, declaredLength = payload.length): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([header, payload]);
}

describe('api: socket permissions', () => {
  it('creates the socket 0660 with the configured group inside a 0750 directory', async () => {
    const running = await startFakeAgent({ group: 4242 });
    try {
      const sock = statSync(running.socketPath);
      assert.ok(sock.isSocket());
      assert.equal(sock.mode & 0o777, 0o660);
      assert.equal(sock.gid, 4242);
      const dir = statSync(path.dirname(running.socketPath));
      assert.equal(dir.mode & 0o777, 0o750);
      assert.equal(dir.gid, 4242);
    } finally {
      await running.stop();
    }
  });

  it('refuses a peer outside the group and admits one inside it', async () => {
    const running = await startFakeAgent({ group: 4242 });
    try {
      chmodSync(running.dir, 0o755); // the temp dir itself is 0700; open it so only our modes decide
      assert.equal(connectAs(running.socketPath, 65534, 65534), 'EACCES');
      assert.equal(connectAs(running.socketPath, 65534, 4242), 'connected');
    } finally {
      await running.stop();
    }
  });

  it('hands a private run directory made by systemd (root:root 0750) to the socket group', async () => {
    const dir = tempDir('rundir');
    const runDir = path.join(dir, 'run');
    mkdirSync(runDir);
    chmodSync(runDir, 0o750);
    chmodSync(dir, 0o755);
    const server = await startApiServer(new FakeAgent(), { socketPath: path.join(runDir, 'flockguard.sock'), group: 4242 });
    try {
      const st = statSync(runDir);
      assert.equal(st.gid, 4242);
      assert.equal(st.mode & 0o777, 0o750);
      assert.equal(connectAs(path.join(runDir, 'flockguard.sock'), 65534, 4242), 'connected');
    } finally {
      await server.close();
    }
  });

  it('leaves a shared directory alone', async () => {
    const dir = tempDir('shared');
    chmodSync(dir, 0o1777);
    const before = statSync(dir);
    const server = await startApiServer(new FakeAgent(), { socketPath: path.join(dir, 'flockguard.sock'), group: 4242 });
    try {
      const after = statSync(dir);
      assert.deepEqual([after.gid, after.mode], [before.gid, before.mode]);
      assert.equal(statSync(path.join(dir, 'flockguard.sock')).gid, 4242);
    } finally {
      await server.close();
    }
  });

  it('honours another mode', async () => {
    const running = await startFakeAgent({ mode: 0o600 });
    try {
      assert.equal(statSync(running.socketPath).mode & 0o777, 0o600);
    } finally {
      await running.stop();
    }
  });

  it('resolves group names through the group file, and says what to do for an unknown one', () => {
    const dir = tempDir('group');
    const file = path.join(dir, 'group');
    writeFileSync(file, 'root:x:0:\nflockguard:x:997:alice,bob\n');
    assert.equal(resolveGroup('flockguard', file), 997);
    assert.equal(resolveGroup('42', file), 42);
    assert.throws(() => resolveGroup('nope', file), { code: 'SOCKET_GROUP_UNKNOWN', message: /groupadd --system nope/ });
  });
});

describe('api: socket file life cycle', () => {
  it('replaces a stale socket left by a killed agent', async () => {
    const dir = tempDir('stale');
    const socketPath = path.join(dir, 'flockguard.sock');
    const script = `require('net').createServer().listen(${JSON.stringify(socketPath)},()=>process.kill(process.pid,'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
    assert.ok(statSync(socketPath).isSocket(), 'the killed process left its socket behind');
    const server = await startApiServer(new FakeAgent(), { socketPath });
    try {
      await statusWorks(socketPath);
    } finally {
      await server.close();
    }
  });

  it('refuses a path another process serves, and a path that is not a socket', async () => {
    const dir = tempDir('busy');
    const socketPath = path.join(dir, 'flockguard.sock');
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(socketPath, resolve));
    try {
      await assert.rejects(startApiServer(new FakeAgent(), { socketPath }), { code: 'SOCKET_IN_USE', message: /systemctl stop flockguard/ });
    } finally {
      other.close();
    }
    const filePath = path.join(dir, 'regular');
    writeFileSync(filePath, 'keep me');
    await assert.rejects(startApiServer(new FakeAgent(), { socketPath: filePath }), { code: 'SOCKET_PATH_TAKEN' });
  });
});

describe('api: hostile input', () => {
  let running: RunningAgent;
  const connectionErrors: Error[] = [];

  beforeEach(async () => {
    connectionErrors.length = 0;
    running = await startFakeAgent({ maxMessageBytes: 64 * 1024, onConnectionError: (e) => connectionErrors.push(e) });
  });

  afterEach(async () => {
    await running.stop();
  });

  it('drops a peer that sends garbage bytes and serves the next client', async () => {
    const peer = net.connect(running.socketPath);
    peer.on('error', () => undefined);
    peer.resume(); // read (and discard) the server's GOAWAY so that its FIN is seen
    await new Promise((r) => peer.once('connect', r));
    peer.write(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    assert.equal(await waitClosed(peer, 5000), true, 'the server closed the garbage connection');
    assert.match(connectionErrors.map((e) => e.message).join('\n'), /bad client magic/);
    await statusWorks(running.socketPath);
  });

  it('keeps serving while a peer sits on a truncated HTTP/2 frame', async () => {
    const peer = net.connect(running.socketPath);
    peer.on('error', () => undefined);
    await new Promise((r) => peer.once('connect', r));
    // Client preface, then a SETTINGS frame header announcing 18 bytes of which only 3 arrive.
    peer.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 18, 4, 0, 0, 0, 0, 0]), Buffer.from([0, 1, 0])]));
    try {
      await statusWorks(running.socketPath);
      await statusWorks(running.socketPath);
    } finally {
      peer.destroy();
    }
  });

  it('fails an oversized message with RESOURCE_EXHAUSTED, without reading it, and serves the next call', async () => {
    // Announce 1 GiB, send 1 KiB: the server must answer from the length prefix alone.
    const reply = await rawGrpcCall(running.socketPath, 'Apply', grpcFrame(Buffer.alloc(1024, 0x0a), 1 << 30));
    assert.equal(reply.status, '8');
    await statusWorks(running.socketPath);

    const client = await ApiClient.connect(running.socketPath);
    try {
      const big = NETSET + '#' + 'x'.repeat(100 * 1024) + '\n';
      await assert.rejects(client.apply({ documents: [{ fileName: 'big.yaml', text: big }], dryRun: false, skipUnsupported: false }), {
        status: 'RESOURCE_EXHAUSTED',
      });
      const ok = await client.apply({ documents: [{ fileName: 'a.yaml', text: NETSET }], dryRun: false, skipUnsupported: false });
      assert.equal(ok.changed, true);
    } finally {
      client.close();
    }
  });

  it('fails a well-framed message that is not protobuf, and serves the next call', async () => {
    const reply = await rawGrpcCall(running.socketPath, 'Apply', grpcFrame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12])));
    assert.notEqual(reply.status, undefined);
    assert.notEqual(reply.status, '0');
    const valid = Buffer.from(messageType('StatusRequest').encode({}).finish());
    assert.equal((await rawGrpcCall(running.socketPath, 'Status', grpcFrame(valid))).status, '0');
    assert.equal(running.agent.peers.length, 0, 'the broken Apply never reached the service');
  });

  it('answers an unknown method with UNIMPLEMENTED', async () => {
    const reply = await rawGrpcCall(running.socketPath, 'Format', grpcFrame(Buffer.alloc(0)));
    assert.equal(reply.status, '12');
  });
});

describe('api: stalled peers', () => {
  let running: RunningAgent;

  beforeEach(async () => {
    running = await startFakeAgent({ keepaliveMs: 200 });
  });

  afterEach(async () => {
    await running.stop();
  });

  it('drops a peer stuck mid-frame and a silent one once they miss a ping', async () => {
    const peers = await Promise.all(
      [true, false].map(async (truncated) => {
        const peer = net.connect(running.socketPath);
        peer.on('error', () => undefined);
        peer.resume();
        await new Promise((r) => peer.once('connect', r));
        if (truncated) peer.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 18, 4, 0, 0, 0, 0, 0, 0, 1])]));
        return peer;
      }),
    );
    assert.deepEqual(await Promise.all(peers.map((p) => waitClosed(p, 5000))), [true, true]);
  });

  it('keeps an idle monitor stream, whose client answers the pings', async () => {
    const client = await ApiClient.connect(running.socketPath);
    try {
      const stream = client.monitor();
      const events = stream[Symbol.asyncIterator]();
      assert.equal((await events.next()).value.type, 'resync');
      await new Promise((r) => setTimeout(r, 1000)); // five ping intervals without traffic
      await client.apply({ documents: [{ fileName: 'a', text: NETSET }], dryRun: false, skipUnsupported: false });
      assert.equal((await events.next()).value.revision, 1);
      stream.cancel();
    } finally {
      client.close();
    }
  });
});
