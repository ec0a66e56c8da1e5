/**
 * The generator's categorical columns and labelled target: off by default (the
 * shipped data is what the generator writes, byte for byte), on for the churn
 * example (which it reproduces exactly), and the category-drift knob moves the level shares.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CATEGORICAL_COLUMNS, Random, csvHeader, generateFileSet, type FileSetSettings } from '../src/lib/data/generator.js';
import { REPO, tempFolder } from './helpers.js';

const GENERATOR = path.join(REPO, 'dist', 'scripts', 'generate-data.js');

function filesUnder(folder: string): string[] {
  return fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.csv'))
    .sort();
}

test('by default the generator writes the shipped practicedata/, sourcedata/ and testdata/ byte for byte', () => {
  const out = tempFolder('generator-');
  execFileSync(process.execPath, [GENERATOR, '--out', out], { stdio: 'ignore' });
  for (const folder of ['practicedata', 'sourcedata', 'testdata']) {
    for (const name of filesUnder(path.join(REPO, folder))) {
      assert.ok(fs.readFileSync(path.join(out, folder, name)).equals(fs.readFileSync(path.join(REPO, folder, name))), `${folder}/${name}`);
    }
  }
});

test('--example writes the data of examples/churn byte for byte', () => {
  const out = tempFolder('generator-example-');
  execFileSync(process.execPath, [GENERATOR, '--example', out], { stdio: 'ignore' });
  const shipped = path.join(REPO, 'examples', 'churn');
  assert.deepEqual(filesUnder(out), filesUnder(shipped));
  for (const name of filesUnder(shipped)) {
    assert.ok(fs.readFileSync(path.join(out, name)).equals(fs.readFileSync(path.join(shipped, name))), name);
  }
});

/** The rows of a generated set as records of the header's columns. */
function generate(settings: Partial<FileSetSettings>, seed = 5): Record<string, string>[] {
  const full: FileSetSettings = {
    files: 1,
    rowsPerFile: 4000,
    duplicateRate: 0,
    missingRate: 0.02,
    worldShare: 1,
    world: { drift: 0, conceptDrift: 0 },
    categories: true,
    labelledTarget: true,
    ...settings,
  };
  const header = csvHeader(full).split(',');
  const [lines] = [...generateFileSet(new Random(seed), full)];
  return lines.map((line) => {
    const fields = line.split(',');
    assert.equal(fields.length, header.length, line);
    return Object.fromEntries(header.map((name, i) => [name, fields[i]]));
  });
}

const share = (rows: Record<string, string>[], column: string, level: string): number =>
  rows.filter((row) => row[column] === level).length / rows.length;

test('categorical columns: every level of each column appears, cells go missing, the target is no/yes', () => {
  const rows = generate({});
  assert.equal(
    csvHeader({ categories: true, labelledTarget: true }),
    'corporation,lastmonth_activity,lastyear_activity,number_of_employees,region,contract,support_plan,payment_method,industry,churned',
  );
  for (const column of CATEGORICAL_COLUMNS) {
    const seen = new Set(rows.map((row) => row[column.name]));
    for (const level of column.levels) assert.ok(seen.has(level), `${column.name}: ${level}`);
    assert.ok(seen.has(''), `${column.name} has missing cells`);
    assert.equal(seen.size, column.levels.length + 1, column.name);
  }
  assert.equal(CATEGORICAL_COLUMNS[0].levels.length, 50);
  assert.ok(rows.some((row) => row.lastmonth_activity === ''));
  assert.deepEqual(new Set(rows.map((row) => row.churned)), new Set(['no', 'yes']));
  // The levels move the risk: month-to-month clients leave more often than two-year ones.
  const churnShare = (contract: string) => {
    const group = rows.filter((row) => row.contract === contract);
    return group.filter((row) => row.churned === 'yes').length / group.length;
  };
  assert.ok(churnShare('month-to-month') > churnShare('two-year') + 0.15, `${churnShare('month-to-month')} vs ${churnShare('two-year')}`);
});

test('the category-drift knob moves the level shares toward the drifted ones', () => {
  const still = generate({});
  const drifted = generate({ world: { drift: 0, conceptDrift: 0, categoryDrift: 2 } });
  assert.ok(Math.abs(share(still, 'contract', 'month-to-month') - 0.45 * 0.98) < 0.03);
  assert.ok(Math.abs(share(drifted, 'contract', 'month-to-month') - 0.75 * 0.98) < 0.03);
  assert.ok(share(drifted, 'support_plan', 'yes') < share(still, 'support_plan', 'yes') - 0.15);
  // The region mass moves from the head of the list (AK) to its tail (WY).
  assert.ok(share(still, 'region', 'AK') > 3 * share(still, 'region', 'WY'));
  assert.ok(share(drifted, 'region', 'WY') > 3 * share(drifted, 'region', 'AK'));
});

test('distinct ids with an id prefix, counted over the whole set', () => {
  const rows = generate({ idPrefix: 'C', files: 1 });
  assert.equal(new Set(rows.map((row) => row.corporation)).size, rows.length);
  assert.equal(rows[0].corporation, 'C1');
});
