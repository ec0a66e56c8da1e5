/**
 * RunTally, the incremental reader behind the tick metrics: it agrees with
 * readRuns on a history of several MiB (lines across read chunks), counts an
 * append once however many scrapes ask at the same time, and starts over when
 * the file is rewritten in place.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FILE_NAMES } from '../src/lib/layout.js';
import { OUTCOMES, readRuns, type Outcome } from '../src/lib/store/run-history.js';
import { RunTally } from '../src/lib/api/run-tally.js';
import { tempFolder } from './helpers.js';

/** A history line: only the fields the tally reads, padded to `size` bytes. */
function line(outcome: Outcome, minute: number, size = 700): string {
  const record = {
    outcome,
    finished_at: new Date(Date.UTC(2025, 0, 1) + minute * 60_000).toISOString(),
    model_drift: null,
    data_drift: null,
  };
  const text = JSON.stringify({ ...record, notes: [''] });
  return JSON.stringify({ ...record, notes: ['x'.repeat(Math.max(0, size - text.length))] }) + '\n';
}

function countsOf(store: string): Record<string, number> {
  const runs = readRuns(store);
  return Object.fromEntries(OUTCOMES.map((outcome) => [outcome, runs.filter((r) => r.outcome === outcome).length]));
}

test('agrees with readRuns on a history larger than a read chunk, and reads only what was appended', async () => {
  const store = tempFolder();
  const file = path.join(store, FILE_NAMES.runHistory);
  const lines = Array.from({ length: 4000 }, (_, i) => line(OUTCOMES[(i * 7) % OUTCOMES.length], i, 500 + (i % 300)));
  fs.writeFileSync(file, lines.join(''));
  assert.ok(fs.statSync(file).size > 2 * (1 << 20));
  const tally = new RunTally(file);
  const snapshot = await tally.snapshot();
  assert.deepEqual(snapshot.ticks, countsOf(store));
  assert.equal(snapshot.lastTick[OUTCOMES[(3999 * 7) % OUTCOMES.length]], Date.UTC(2025, 0, 1) / 1000 + 3999 * 60);

  // Blank the first line in place: a tally that re-read the whole file would lose it.
  const before = countsOf(store);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, ' '.repeat(lines[0].length - 1), 0);
  fs.closeSync(fd);
  fs.appendFileSync(file, line('failed', 5000) + line('failed', 5001));
  const [a, b] = await Promise.all([tally.snapshot(), tally.snapshot()]);
  assert.deepEqual(a.ticks, { ...before, failed: before.failed + 2 });
  assert.deepEqual(b.ticks, a.ticks, 'two scrapes at once count the append once');
  assert.deepEqual((await tally.snapshot()).ticks, a.ticks);
});

test('a file rewritten in place to the same size is read again from the start', async () => {
  const store = tempFolder();
  const file = path.join(store, FILE_NAMES.runHistory);
  fs.writeFileSync(file, line('no-drift', 1) + line('no-drift', 2));
  const tally = new RunTally(file);
  assert.equal((await tally.snapshot()).ticks['no-drift'], 2);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, line('rejected', 1) + line('redeployed', 2), 0);
  fs.closeSync(fd);
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(file, later, later);
  const snapshot = await tally.snapshot();
  assert.deepEqual(snapshot.ticks, countsOf(store));
  assert.equal(snapshot.ticks['no-drift'], 0);
});
