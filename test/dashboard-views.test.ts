/**
 * The dashboard's pure parts: how often a cron schedule fires (for the overdue
 * warning), the timeline's bounded bins, the ticks page, coefficient changes,
 * the drift test of any feature kind, and the run history read incrementally.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cronPeriodSeconds } from '../src/lib/automation/cron-period.js';
import { readHistory } from '../src/lib/dashboard/dashboard-data.js';
import { coefficientChanges, driftTest, formatAge, overdueWarning, ticksPage, timelineBins } from '../src/lib/dashboard/views.js';
import type { FeatureDrift, RunRecord } from '../src/lib/store/run-history.js';
import { tempFolder } from './helpers.js';

function run(outcome: RunRecord['outcome'], startedAt: number, id = String(startedAt)): RunRecord {
  return { run_id: id, started_at: new Date(startedAt).toISOString(), outcome, new_files: [], decision: outcome } as unknown as RunRecord;
}

test('the longest wait between firings of a cron schedule', () => {
  const cases: [string, number | null][] = [
    ['*/10 * * * *', 600],
    ['* * * * *', 60],
    ['0 * * * *', 3600],
    ['0,30 * * * *', 1800],
    ['5-55/25 * * * *', 1500],
    ['0 */6 * * *', 6 * 3600],
    ['0 9 * * 1-5', 3 * 86400],
    ['0 0 1 * *', 31 * 86400],
    ['*/15 * * * * *', 60],
    ['0 0 * * sun', null],
    ['61 * * * *', null],
    ['* * *', null],
    ['', null],
  ];
  for (const [expression, period] of cases) assert.equal(cronPeriodSeconds(expression), period, expression);
});

test('overdue after three periods without a tick, in words', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(overdueWarning({ started_at: '2026-01-01T11:31:00Z' }, 600, now), null);
  assert.match(overdueWarning({ started_at: '2026-01-01T11:29:00Z' }, 600, now)!.text, /31 min ago, the schedule runs one every 10 min/);
  assert.equal(overdueWarning(null, 600, now), null);
  assert.equal(overdueWarning({ started_at: '2026-01-01T00:00:00Z' }, null, now), null);
  assert.deepEqual([45, 600, 7200, 9000, 3 * 86400].map(formatAge), ['45 s', '10 min', '2 h', '2 h 30 min', '3 days']);
});

test('the timeline has at most the bins asked for, however long the history', () => {
  const start = Date.parse('2026-01-01T00:00:00Z');
  const runs = Array.from({ length: 10_000 }, (_, i) => run(i % 97 === 0 ? 'failed' : 'no-new-data', start + i * 600_000));
  const { bins, from, to } = timelineBins(runs, 120);
  assert.ok(bins.length <= 2 * 120, `${bins.length} marks`);
  assert.equal(
    bins.reduce((sum, bin) => sum + bin.count, 0),
    10_000,
  );
  assert.ok(from < start && to > start + 9_999 * 600_000);
  assert.deepEqual(timelineBins([], 120).bins, []);
});

test('a page of ticks: newest first, by outcome, counted', () => {
  const runs = ['bootstrapped', 'no-new-data', 'failed', 'no-new-data', 'redeployed'].map((o, i) =>
    run(o as RunRecord['outcome'], i * 1000, `r${i}`),
  );
  assert.deepEqual(
    ticksPage(runs, null, 1, 2).rows.map((r) => r.run_id),
    ['r3', 'r2'],
  );
  const quiet = ticksPage(runs, 'no-new-data', 0, 10);
  assert.equal(quiet.total, 2);
  assert.deepEqual(
    quiet.rows.map((r) => r.run_id),
    ['r3', 'r1'],
  );
});

test('coefficient changes: largest first, new coefficients last', () => {
  const rows = coefficientChanges({ a: 1, b: -2, c: 0.5, d: 3 }, { a: 0.9, b: 0, c: 0.5 });
  assert.deepEqual(
    rows.map((r) => [r.feature, r.change === null ? null : Number(r.change.toFixed(2))]),
    [
      ['b', -2],
      ['a', 0.1],
      ['c', 0],
      ['d', null],
    ],
  );
  assert.deepEqual(coefficientChanges(null, { a: 1 }), []);
});

test('the drift test of a feature: KS for numbers, any other p-value for categories', () => {
  const numeric = { psi: 0.3, ks_pvalue: 0.01 } as unknown as FeatureDrift;
  const categorical = { psi: 0.3, chi2_pvalue: 0.02 } as unknown as FeatureDrift;
  assert.deepEqual(driftTest(numeric), { test: 'KS', p_value: 0.01 });
  assert.deepEqual(driftTest(categorical), { test: 'chi-square', p_value: 0.02 });
  assert.deepEqual(driftTest({ psi: 1 } as unknown as FeatureDrift), { test: null, p_value: null });
});

test('the run history is read incrementally: appended lines only, a torn last line waits, a replaced file is read anew', () => {
  const store = tempFolder();
  const file = path.join(store, 'runhistory.jsonl');
  const line = (id: string): string => JSON.stringify(run('no-new-data', 0, id)) + '\n';
  assert.deepEqual(readHistory(store), []);
  fs.writeFileSync(file, line('a') + line('b'));
  assert.deepEqual(
    readHistory(store).map((r) => r.run_id),
    ['a', 'b'],
  );
  fs.appendFileSync(file, line('c') + line('d').slice(0, 20));
  assert.deepEqual(
    readHistory(store).map((r) => r.run_id),
    ['a', 'b', 'c'],
  );
  fs.appendFileSync(file, '\n' + line('e') + 'not json\n');
  assert.deepEqual(
    readHistory(store).map((r) => r.run_id),
    ['a', 'b', 'c', 'e'],
    'the torn line is skipped once closed, a corrupt line too',
  );
  fs.writeFileSync(file + '.new', line('x'));
  fs.renameSync(file + '.new', file);
  assert.deepEqual(
    readHistory(store).map((r) => r.run_id),
    ['x'],
  );
});
