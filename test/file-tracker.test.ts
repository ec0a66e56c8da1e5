/** New-data detection: name + SHA-256 pairs, settling files, and the hash cache that keeps idle ticks from reading data. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { classifyFiles, trackFiles } from '../src/lib/file-tracker.js';
import { sha256 } from '../src/lib/files.js';
import { tempFolder } from './helpers.js';

test('an unchanged file (same name, size, mtime) takes its hash from the cache instead of being read', () => {
  const folder = tempFolder();
  fs.writeFileSync(path.join(folder, 'a.csv'), 'x,y\n1,2\n');
  const stat = fs.statSync(path.join(folder, 'a.csv'));
  const cached = trackFiles(folder, ['a.csv'], [{ name: 'a.csv', size: stat.size, mtimeMs: stat.mtimeMs, sha256: 'from-cache' }]);
  assert.equal(cached[0].sha256, 'from-cache');
  const touched = trackFiles(folder, ['a.csv'], [{ name: 'a.csv', size: stat.size, mtimeMs: stat.mtimeMs - 1000, sha256: 'stale' }]);
  assert.equal(touched[0].sha256, sha256(fs.readFileSync(path.join(folder, 'a.csv'))));
});

test('a file is new when its name and hash pair is unseen; recent files wait', () => {
  const now = 1_000_000;
  const files = [
    { name: 'seen.csv', size: 1, mtimeMs: 0, sha256: 'h1' },
    { name: 'changed.csv', size: 1, mtimeMs: 0, sha256: 'h2-new' },
    { name: 'renamed.csv', size: 1, mtimeMs: 0, sha256: 'h1' },
    { name: 'writing.csv', size: 1, mtimeMs: now - 1000, sha256: 'h3' },
  ];
  const seen = [
    { name: 'seen.csv', sha256: 'h1' },
    { name: 'changed.csv', sha256: 'h2-old' },
  ];
  const { fresh, settling } = classifyFiles(files, seen, 5, now);
  assert.deepEqual(
    fresh.map((f) => f.name),
    ['changed.csv', 'renamed.csv'],
  );
  assert.deepEqual(
    settling.map((f) => f.name),
    ['writing.csv'],
  );
});
