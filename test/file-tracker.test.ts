/** New-data detection: name + SHA-256 pairs, settling files, and the hash cache that keeps idle ticks from reading data. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { classifyFiles, isSettling, trackFiles, type TrackedFile } from '../src/lib/automation/file-tracker.js';
import { sha256 } from '../src/lib/store/files.js';
import { tempFolder } from './helpers.js';

test('an unchanged file takes its hash from the cache instead of being read', () => {
  const folder = tempFolder();
  fs.writeFileSync(path.join(folder, 'a.csv'), 'x,y\n1,2\n');
  const [first] = trackFiles(folder, ['a.csv'], []);
  assert.equal(first.sha256, sha256(fs.readFileSync(path.join(folder, 'a.csv'))));
  const [cached] = trackFiles(folder, ['a.csv'], [{ ...first, sha256: 'from-cache' }]);
  assert.equal(cached.sha256, 'from-cache');
  assert.equal(trackFiles(folder, ['b.csv'].slice(0, 0), [first]).length, 0);
});

/** Ways to change a file that keep its name, size and (restored) modification time. */
const REWRITES: [string, (file: string) => void][] = [
  ['rewritten in place, same size, mtime restored', (file) => fs.writeFileSync(file, 'x,y\n3,4\n')],
  [
    'replaced by rename (new inode), same size, mtime restored',
    (file) => {
      fs.writeFileSync(`${file}.new`, 'x,y\n5,6\n');
      fs.renameSync(`${file}.new`, file);
    },
  ],
  [
    'bytes patched through a file descriptor, mtime restored',
    (file) => {
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, '9', 4);
      fs.closeSync(fd);
    },
  ],
];

for (const [name, rewrite] of REWRITES) {
  test(`a changed file is hashed again, whatever a rewrite keeps: ${name}`, () => {
    const folder = tempFolder();
    const file = path.join(folder, 'a.csv');
    fs.writeFileSync(file, 'x,y\n1,2\n');
    const old = new Date('2026-01-02T03:04:05.678Z');
    fs.utimesSync(file, old, old);
    const [before] = trackFiles(folder, ['a.csv'], []);
    rewrite(file);
    fs.utimesSync(file, old, old);
    const stat = fs.statSync(file);
    assert.equal(stat.size, before.size, 'same size');
    assert.equal(stat.mtimeMs, before.mtimeMs, 'same mtime');
    const [after] = trackFiles(folder, ['a.csv'], [before]);
    assert.notEqual(after.sha256, before.sha256, 'the cache did not hide the change');
    assert.equal(after.sha256, sha256(fs.readFileSync(file)));
  });
}

function tracked(name: string, sha: string, mtimeMs: number): TrackedFile {
  return { name, size: 1, mtimeMs, identity: `${name}-identity`, sha256: sha };
}

test('a file is new when its name and hash pair is unseen; recent files wait', () => {
  const now = 1_000_000;
  const files = [
    tracked('seen.csv', 'h1', 0),
    tracked('changed.csv', 'h2-new', 0),
    tracked('renamed.csv', 'h1', 0),
    tracked('writing.csv', 'h3', now - 1000),
    tracked('future.csv', 'h4', now + 3_600_000),
  ];
  const seen = [
    { name: 'seen.csv', sha256: 'h1' },
    { name: 'changed.csv', sha256: 'h2-old' },
  ];
  const { fresh, settling } = classifyFiles(files, seen, 5, now);
  assert.deepEqual(
    fresh.map((f) => f.name),
    ['changed.csv', 'renamed.csv', 'future.csv'],
  );
  assert.deepEqual(
    settling.map((f) => f.name),
    ['writing.csv'],
  );
});

test('isSettling: only a recent modification waits; the future and settle_seconds 0 never do', () => {
  const now = 1_000_000;
  const cases: [string, number, number, boolean][] = [
    ['modified 1 s ago, settle 5 s', now - 1000, 5, true],
    ['modified 5 s ago, settle 5 s', now - 5000, 5, false],
    ['modified an hour ago', now - 3_600_000, 5, false],
    ['stamped 0.4 ms ahead of the clock (sub-millisecond times)', now + 0.4, 5, true],
    ['an hour in the future (skewed clock, restored time)', now + 3_600_000, 5, false],
    ['settle 0, modified this very millisecond', now + 0.9, 0, false],
    ['settle 0, modified 1 ms ago', now - 1, 0, false],
  ];
  for (const [name, mtime, settle, expected] of cases) assert.equal(isSettling(mtime, settle, now), expected, name);
});
