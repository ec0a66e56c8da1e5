/**
 * init-config: the schema inferred from a user's CSV (id, numeric, categorical,
 * target and its labels, what is left out), the config it writes (valid for
 * loadConfig), and what it refuses (exit 2 naming the file, line or column).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runInitConfig, type InitConfigResult } from '../src/init-config.js';
import { loadConfig, type Config } from '../src/lib/config.js';
import { ID_NAME, orderTargetLabels } from '../src/lib/data/schema-inference.js';
import { ConfigError, exitCodeOf, messageOf } from '../src/lib/errors.js';
import { FIXTURES, REPO, tempFolder } from './helpers.js';

const CASES = path.join(FIXTURES, 'init-config');

/** A temporary project holding the fixture's data.csv under data/ (and an empty testdata/); returns its paths. */
function projectWith(fixture: string, testFolder = true): { root: string; data: string; out: string } {
  const root = tempFolder('init-config-');
  fs.mkdirSync(path.join(root, 'data'));
  if (testFolder) fs.mkdirSync(path.join(root, 'testdata'));
  const data = path.join(root, 'data', 'data.csv');
  if (fs.existsSync(path.join(CASES, fixture, 'data.csv'))) fs.copyFileSync(path.join(CASES, fixture, 'data.csv'), data);
  return { root, data, out: path.join(root, 'config.json') };
}

/**
 * loadConfig as the branch has it. The schema keys of categorical support
 * (categorical_features, target_labels) are new: where the validator does not
 * know them yet, the config must be valid without them, and nothing else.
 */
function loadAsValidatorAllows(file: string): Config {
  try {
    return loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError) || !/schema: unknown key\(s\) "(categorical_features|target_labels)"/.test(error.message))
      throw error;
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as { schema: Record<string, unknown> };
    delete value.schema.categorical_features;
    delete value.schema.target_labels;
    const without = path.join(path.dirname(file), 'without-categorical-keys.json');
    fs.writeFileSync(without, JSON.stringify(value));
    return loadConfig(without);
  }
}

type Roles = Record<string, string>;
const GOOD: { name: string; fixture: string; target?: string; roles: Roles; labels?: [string, string] }[] = [
  {
    name: 'numeric features and a 0/1 target, the default schema',
    fixture: 'numeric',
    roles: { corporation: 'id', lastmonth_activity: 'numeric', lastyear_activity: 'numeric', exited: 'target' },
  },
  {
    name: 'categories with empty cells, free text left out, a No/Yes target',
    fixture: 'churn',
    roles: {
      customer: 'id',
      minutes: 'numeric',
      calls: 'numeric',
      plan: 'categorical',
      state: 'categorical',
      notes: 'left out',
      Churn: 'target',
    },
    labels: ['No', 'Yes'],
  },
  {
    name: 'several two-valued columns with --target: the others are categories',
    fixture: 'two-valued',
    target: 'churn',
    roles: { id_text: 'id', usage: 'numeric', plan: 'categorical', churn: 'target' },
    labels: ['no', 'yes'],
  },
  {
    name: 'a numeric column named as an id with distinct values is the id',
    fixture: 'numeric-id',
    roles: { account_id: 'id', usage: 'numeric', region: 'categorical', left: 'target' },
    labels: ['stayed', 'left'],
  },
  {
    name: 'labels with no known pair are sorted',
    fixture: 'sorted-labels',
    roles: { name: 'id', score: 'numeric', outcome: 'target' },
    labels: ['gone', 'stay'],
  },
  {
    name: 'True/False in the file is ordered [False, True]',
    fixture: 'true-false',
    target: 'result',
    roles: { name: 'id', score: 'numeric', flag: 'categorical', result: 'target' },
    labels: ['False', 'True'],
  },
  {
    name: 'a numeric column with one text cell is left out, and the cell named',
    fixture: 'nearly-numeric',
    roles: { name: 'id', revenue: 'left out', staff: 'numeric', exited: 'target' },
  },
];

for (const { name, fixture, target, roles, labels } of GOOD) {
  test(`infers: ${name}`, async () => {
    const { data, out, root } = projectWith(fixture);
    const result = await runInitConfig({ data, out, target });
    assert.deepEqual(Object.fromEntries(result.columns.map((column) => [column.column, column.role])), roles);
    assert.deepEqual(result.schema.target_labels, labels);
    const written = JSON.parse(fs.readFileSync(out, 'utf8')) as { schema: Record<string, unknown> };
    const byRole = (role: string) => Object.keys(roles).filter((column) => roles[column] === role);
    assert.deepEqual(written.schema.features, byRole('numeric'));
    assert.deepEqual(written.schema.categorical_features, byRole('categorical').length > 0 ? byRole('categorical') : undefined);
    assert.equal(written.schema.target, byRole('target')[0]);
    assert.equal(written.schema.id_column, byRole('id')[0]);
    const config = loadAsValidatorAllows(out);
    assert.equal(config.input_folder_path, path.join(root, 'data'));
    assert.equal(config.test_data_path, path.join(root, 'testdata'));
    assert.equal(config.output_model_path, path.join(root, 'models'));
  });
}

test('every column gets a reason, and the label order is said with the way to swap it', async () => {
  const { data, out } = projectWith('churn');
  const result = await runInitConfig({ data, out });
  for (const column of result.columns) assert.ok(column.reason.length > 10, `${column.column}: ${column.reason}`);
  const reason = (name: string) => result.columns.find((column) => column.column === name)!.reason;
  assert.match(
    reason('Churn'),
    /target_labels \["No","Yes"\] = \[negative, positive\] by the pair no\/yes; "Yes" is the risk predicted .*swap/,
  );
  assert.match(reason('state'), /3 levels \("CA", "NY", "TX"\)/);
  assert.match(reason('plan'), /2 empty cells.*level of its own/);
  assert.match(reason('notes'), /all values distinct: free text/);
  const nearly = await runInitConfig({ ...projectWith('nearly-numeric'), force: true });
  assert.match(nearly.columns[1].reason, /"n\/a" at line 3/);
});

test('id names: id, client_id, Client ID, AccountId, customerID; not paid, valid, idle', () => {
  for (const name of ['id', 'ID', 'client_id', 'Client ID', 'id-number', 'AccountId', 'customerID', 'account.id'])
    assert.ok(ID_NAME.test(name), name);
  for (const name of ['paid', 'valid', 'idle', 'PAID', 'identity', 'ideas']) assert.ok(!ID_NAME.test(name), name);
});

test('label order: known pairs in either order and case, else sorted', () => {
  const table: [[string, string], [string, string]][] = [
    [
      ['yes', 'no'],
      ['no', 'yes'],
    ],
    [
      ['Y', 'N'],
      ['N', 'Y'],
    ],
    [
      ['TRUE', 'FALSE'],
      ['FALSE', 'TRUE'],
    ],
    [
      ['churned', 'retained'],
      ['retained', 'churned'],
    ],
    [
      ['on', 'off'],
      ['off', 'on'],
    ],
    [
      ['b', 'a'],
      ['a', 'b'],
    ],
  ];
  for (const [values, wanted] of table) assert.deepEqual(orderTargetLabels(values).labels, wanted, values.join('/'));
});

test('the next steps say what fullprocess needs: testdata.csv, and the other input files', async () => {
  const { data, out, root } = projectWith('numeric', false);
  fs.copyFileSync(data, path.join(root, 'data', 'more.csv'));
  const result = await runInitConfig({ data, out });
  assert.match(result.next_steps.join('\n'), new RegExp(`${path.join(root, 'testdata', 'testdata.csv')}`));
  assert.match(result.next_steps.join('\n'), /more\.csv as well as data\.csv/);
  assert.match(result.next_steps.at(-1)!, /npm run fullprocess -- --config /);
});

const BAD: [string, string, { target?: string }, RegExp][] = [
  ['no file', 'missing', {}, /--data: file not found: .*data\.csv/],
  ['an empty file', 'empty', {}, /data\.csv: the file is empty/],
  ['a header and no rows', 'header-only', {}, /data\.csv: the file has a header but no data rows/],
  ['no header (a line of numbers)', 'no-header', {}, /data\.csv:1: the first line holds only numbers \(1,2,0\): a header row/],
  ['an unterminated quote', 'unterminated', {}, /data\.csv:3: unterminated quoted field/],
  ['a row with too few fields', 'ragged', {}, /data\.csv:4: expected 3 fields as in the header, found 2/],
  ['bytes that are not UTF-8', 'not-utf8', {}, /data\.csv:3: bytes that are not valid UTF-8/],
  ['a duplicate column name', 'duplicate-header', {}, /data\.csv:1, column "a": duplicate column name/],
  ['--target naming no column', 'numeric', { target: 'nope' }, /--target: data\.csv has no column "nope" \(columns: corporation, /],
  [
    'a target with three values',
    'three-values',
    { target: 'grade' },
    /column "grade": the target has 3 distinct values \("low", "mid", "high"\)/,
  ],
  ['a target with an empty cell', 'empty-target', { target: 'churn' }, /data\.csv:3, column "churn": the target has 1 empty cell/],
  ['a target with one value', 'one-value', { target: 'churn' }, /column "churn": the target holds one value only \("no"\)/],
  [
    'several two-valued columns',
    'two-valued',
    {},
    /2 columns .* could be the target: "plan" \("yes", "no"\), "churn" \("no", "yes"\); name one with --target/,
  ],
  ['no two-valued column', 'no-target', {}, /no column has exactly two values .*--target \(columns: name, a, b\)/],
  [
    'a two-valued column with gaps only',
    'empty-target',
    {},
    /none can be the target \("churn" has two values but 1 empty cell\); name it with --target/,
  ],
  ['nothing left for a feature', 'no-feature', {}, /no column can be a feature/],
  [
    'no numeric feature',
    'only-categorical',
    {},
    /no numeric column, and the model needs at least one in schema\.features \(categorical: plan\)/,
  ],
];

for (const [name, fixture, options, message] of BAD) {
  test(`refuses ${name}: exit 2, no config written`, async () => {
    const { data, out } = projectWith(fixture);
    const error = await runInitConfig({ data, out, ...options }).then(
      () => assert.fail('no error'),
      (caught: unknown) => caught,
    );
    assert.match(messageOf(error), message);
    assert.equal(exitCodeOf(error), 2);
    assert.equal(fs.existsSync(out), false);
  });
}

test('a config in the data folder (or under it) is refused: its outputs would be read as input', async () => {
  const { data, root } = projectWith('numeric');
  for (const out of [path.join(root, 'data', 'config.json'), path.join(root, 'data', 'sub', 'config.json')]) {
    await assert.rejects(runInitConfig({ data, out }), /would sit in the data file's folder/);
    assert.equal(fs.existsSync(out), false);
  }
});

/** Runs the entry script as a user would (npm's INIT_CWD gives relative paths their folder). */
function runCli(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [path.join(REPO, 'dist', 'src', 'init-config.js'), ...args], {
    cwd,
    env: { ...process.env, INIT_CWD: cwd, LOG_FORMAT: 'text' },
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('the command: one JSON result on stdout, one line a column on stderr; an existing file is kept without --force', () => {
  const { root } = projectWith('churn');
  const first = runCli(root, '--data', 'data/data.csv');
  assert.equal(first.status, 0, first.stderr);
  const result = JSON.parse(first.stdout) as InitConfigResult;
  assert.equal(result.config_file, path.join(root, 'config.json'));
  for (const column of result.columns) assert.match(first.stderr, new RegExp(`\\] ${column.column}: ${column.role}: `));

  fs.writeFileSync(path.join(root, 'config.json'), '{"mine": true}');
  const again = runCli(root, '--data', 'data/data.csv');
  assert.equal(again.status, 2);
  assert.match(JSON.parse(again.stdout).error as string, new RegExp(`${path.join(root, 'config.json')} already exists; use --force`));
  assert.equal(fs.readFileSync(path.join(root, 'config.json'), 'utf8'), '{"mine": true}');

  const forced = runCli(root, '--data', 'data/data.csv', '--force', '--target', 'Churn');
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(
    (JSON.parse(fs.readFileSync(path.join(root, 'config.json'), 'utf8')) as { schema: { target: string } }).schema.target,
    'Churn',
  );

  const usage = runCli(root);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /required option '--data <csv>'/);
});

test('the churn example: init-config on its first file gives the example config', async () => {
  const root = tempFolder('init-config-churn-');
  fs.cpSync(path.join(REPO, 'examples', 'churn', 'incoming'), path.join(root, 'incoming'), { recursive: true });
  fs.cpSync(path.join(REPO, 'examples', 'churn', 'testdata'), path.join(root, 'testdata'), { recursive: true });
  const out = path.join(root, 'config.json');
  await runInitConfig({ data: path.join(root, 'incoming', 'clients1.csv'), out });
  const shipped = JSON.parse(fs.readFileSync(path.join(REPO, 'examples', 'churn', 'config.json'), 'utf8')) as Record<string, unknown>;
  const written = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
  const { drift: _drift, automation: _automation, ...schemaAndFolders } = shipped;
  assert.deepEqual(written, schemaAndFolders, 'the example adds only its drift and automation settings');
});
