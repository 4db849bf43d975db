import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../src/store';
import { crashResources, iterationOf } from './fixtures/crash-content';
import { tempDir } from './helpers';
import { uncommittedWalFrames } from './wal';

interface Ack {
  revision: number;
  iteration: number;
}

/**
 * Runs the crash writer (fixtures/crash-writer.ts) in `mode` until it dies of SIGKILL: from us,
 * `killAfterMs` after its first acknowledged commit, or from itself. Returns its acknowledgements.
 */
function runUntilKilled(path: string, mode: string, killAfterMs?: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'crash-writer.js'), path, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let pending = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [revision, iteration] = line.split(' ').map(Number);
        acks.push({ revision: revision as number, iteration: iteration as number });
        if (acks.length === 1 && killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`crash writer ended by itself (code ${code}): ${stderr}`));
      else resolve(acks);
    });
  });
}

/**
 * Reopens the store after a crash and checks it: SQLite integrity, the current revision is the last
 * acknowledged or the one after, numbers have no gaps, and every revision newer than `verifiedUpTo`
 * holds exactly what the writer committed. Returns the current revision number.
 */
function checkAfterCrash(path: string, lastAck: Ack, verifiedUpTo: number): number {
  const raw = new Database(path);
  assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok', 'SQLite integrity');
  raw.close();
  const store = Store.open(path);
  try {
    const current = store.current();
    assert.ok(current, 'a current revision exists');
    assert.ok(
      current.revision === lastAck.revision || current.revision === lastAck.revision + 1,
      `current revision ${current.revision}, last acknowledged ${lastAck.revision}`,
    );
    const revisions = store.history();
    assert.deepEqual(revisions.map((r) => r.revision), Array.from({ length: current.revision }, (_, k) => current.revision - k), 'no gaps');
    for (const info of revisions.filter((r) => r.revision > verifiedUpTo)) {
      assert.deepEqual(store.get(info.revision)?.resources, crashResources(iterationOf(info.comment)), `revision ${info.revision} complete`);
    }
    return current.revision;
  } finally {
    store.close();
  }
}

describe('Store durability (SIGKILL while committing 100,000-net revisions)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;
  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'state.db');
  });
  afterEach(() => tmp.cleanup());

  it('loses no acknowledged revision when killed at random points of the commit loop', async function () {
    this.timeout(300_000);
    let verifiedUpTo = 0;
    // Delays spread over about one cycle of the writer's loop (generate, hash, write: ~60 ms here).
    for (const killAfterMs of [0, 5, 11, 17, 23, 29, 35, 41, 47, 53, 59, 65]) {
      const lastAck = (await runUntilKilled(path, 'random', killAfterMs)).at(-1);
      assert.ok(lastAck, 'the writer acknowledged its first commit');
      verifiedUpTo = checkAfterCrash(path, lastAck, verifiedUpTo);
    }
  });

  it('leaves no half revision when killed inside the write transaction, with its pages already in the WAL', async function () {
    this.timeout(300_000);
    let verifiedUpTo = 0;
    // A 100,000-net commit inserts ~100 chunks: the first commit completes, later ones die part-way.
    for (const chunk of [130, 201, 349, 430, 520]) {
      const acks = await runUntilKilled(path, `chunk:${chunk}`);
      const lastAck = acks.at(-1);
      assert.ok(lastAck, 'the writer acknowledged a commit before dying');
      assert.ok(uncommittedWalFrames(`${path}-wal`) > 0, 'the killed transaction had written frames to the WAL');
      verifiedUpTo = checkAfterCrash(path, lastAck, verifiedUpTo);
      assert.equal(verifiedUpTo, lastAck.revision, 'the transaction that died is not visible');
    }
  });
});
