// The unified diff checked against GNU diffutils: `patch` must turn `before` into `after` with our
// output, the edit is as small as `diff --minimal`'s, and plain cases match `diff -u` byte for byte.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { unifiedDiff } from '../../src/cli/unified-diff';
import { tempDir } from '../api/helpers';

const LABELS = { from: 'live/x', to: 'merged/x' };

function gnuDiff(dir: string, before: string, after: string, extra: string[] = []): string {
  writeFileSync(path.join(dir, 'a'), before);
  writeFileSync(path.join(dir, 'b'), after);
  const r = spawnSync('diff', ['-u', ...extra, '--label', LABELS.from, '--label', LABELS.to, path.join(dir, 'a'), path.join(dir, 'b')], { encoding: 'utf8' });
  return r.stdout;
}

function patched(dir: string, before: string, patch: string): string {
  writeFileSync(path.join(dir, 'p'), before);
  const r = spawnSync('patch', ['--silent', '--force', path.join(dir, 'p')], { input: patch, encoding: 'utf8' });
  assert.equal(r.status, 0, `patch failed: ${r.stdout}${r.stderr}\n${patch}`);
  return readFileSync(path.join(dir, 'p'), 'utf8');
}

const count = (diff: string, sign: string): number => diff.split('\n').filter((l) => l.startsWith(sign) && !l.startsWith(sign.repeat(3))).length;

describe('cli: unified diff', () => {
  let dir: string;
  before(() => {
    dir = tempDir('udiff');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty for equal texts', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', LABELS), '');
  });

  const fixed: Array<[string, string, string]> = [
    ['one change in the middle', 'a\nb\nc\nd\ne\nf\ng\nh\n', 'a\nb\nc\nD\ne\nf\ng\nh\n'],
    ['from nothing', '', 'x\ny\n'],
    ['to nothing', 'x\ny\n', ''],
    ['two distant hunks', Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n', Array.from({ length: 20 }, (_, i) => (i === 2 || i === 17 ? `L${i}` : `l${i}`)).join('\n') + '\n'],
    ['hunks 6 lines apart merge', 'x\n1\n2\n3\n4\n5\n6\ny\n', 'X\n1\n2\n3\n4\n5\n6\nY\n'],
    ['hunks 7 lines apart stay apart', 'x\n1\n2\n3\n4\n5\n6\n7\ny\n', 'X\n1\n2\n3\n4\n5\n6\n7\nY\n'],
    ['insert at the start', 'b\nc\n', 'a\nb\nc\n'],
    ['append at the end', 'a\nb\n', 'a\nb\nc\n'],
  ];
  for (const [name, before, after] of fixed) {
    it(`matches diff -u: ${name}`, () => {
      assert.equal(unifiedDiff(before, after, LABELS), gnuDiff(dir, before, after));
    });
  }

  it('patch reproduces the new text, with as few changed lines as diff --minimal', () => {
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', '  - 80', 'spec:'), { maxLength: 25 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const before = a.map((l) => `${l}\n`).join('');
        const after = b.map((l) => `${l}\n`).join('');
        const ours = unifiedDiff(before, after, LABELS);
        if (before === after) return ours === '';
        assert.equal(patched(dir, before, ours), after);
        const gnu = gnuDiff(dir, before, after, ['--minimal']);
        assert.equal(count(ours, '-'), count(gnu, '-'));
        assert.equal(count(ours, '+'), count(gnu, '+'));
        return true;
      }),
      { numRuns: 150 },
    );
  });
});
