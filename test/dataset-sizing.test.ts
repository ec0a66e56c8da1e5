/**
 * readDataset sizes its columns from the file's size after the first records:
 * whatever the record lengths do after that (shorter, longer, the same), every
 * row is read with its values, in order.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readDataset } from '../src/lib/data/dataset.js';
import { tempFolder } from './helpers.js';

const SCHEMA = { id_column: 'corporation', features: ['a', 'b'], target: 'exited', categorical_features: [] };

/** Row i: a = i (empty every 7th row), b = a width that depends on where the row is. */
function row(i: number, wide: boolean): string {
  const b = wide ? String(1e14 + i) : String(i % 10);
  return `c${i},${i % 7 === 0 ? '' : i},${b},${i % 2}`;
}

const CASES: [string, number, (i: number) => boolean][] = [
  ['no data rows', 0, () => false],
  ['fewer rows than the sizing sample', 999, () => false],
  ['exactly the sizing sample', 1000, () => false],
  ['one row past the sizing sample', 1001, () => false],
  ['even lengths', 20_000, () => false],
  ['short rows first, then rows twice as long (the estimate is too high)', 20_000, (i) => i >= 1000],
  ['long rows first, then short ones (past the estimate: the columns grow)', 20_000, (i) => i < 1000],
];

for (const [name, rows, wide] of CASES) {
  test(`every row is read: ${name}`, () => {
    const file = path.join(tempFolder(), 'data.csv');
    const lines = ['corporation,a,b,exited'];
    for (let i = 0; i < rows; i++) lines.push(row(i, wide(i)));
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const data = readDataset(file, SCHEMA);
    assert.equal(data.rows, rows);
    assert.equal(data.columns[0].length, rows);
    assert.equal(data.target!.length, rows);
    assert.equal(data.missing[0], Math.ceil(rows / 7));
    for (const i of [0, 1, 998, 999, 1000, 1001, rows - 1].filter((k) => k >= 0 && k < rows)) {
      assert.ok(i % 7 === 0 ? Number.isNaN(data.columns[0][i]) : data.columns[0][i] === i, `a at row ${i}`);
      assert.equal(data.columns[1][i], wide(i) ? 1e14 + i : i % 10, `b at row ${i}`);
      assert.equal(data.target![i], i % 2, `target at row ${i}`);
      assert.equal(data.ids[i], `c${i}`);
    }
  });
}
