/** Config: defaults, path resolution against the config folder, and one clear message per mistake (exit 2). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig, validateConfig } from '../src/lib/config.js';
import { ConfigError } from '../src/lib/errors.js';
import { REPO, tempFolder } from './helpers.js';

const BASE = {
  input_folder_path: 'in',
  output_folder_path: 'out',
  test_data_path: 'test',
  output_model_path: 'models',
  prod_deployment_path: 'prod',
};

function folderWithConfig(config: unknown, folders = ['in', 'test']): string {
  const root = tempFolder();
  for (const folder of folders) fs.mkdirSync(path.join(root, folder));
  fs.writeFileSync(path.join(root, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return path.join(root, 'config.json');
}

test('relative paths resolve against the config file folder, whatever the working directory', () => {
  const file = folderWithConfig(BASE);
  const config = loadConfig(file);
  const root = path.dirname(file);
  assert.equal(config.input_folder_path, path.join(root, 'in'));
  assert.equal(config.prod_deployment_path, path.join(root, 'prod'));
  assert.equal(config.schema.target, 'exited');
  assert.deepEqual(config.schema.features, ['lastmonth_activity', 'lastyear_activity', 'number_of_employees']);
  assert.equal(config.model.C, 1);
  assert.equal(config.drift.rule, 'raw');
  assert.equal(config.api.port, 8000);
  assert.equal(config.api.host, '127.0.0.1');
  assert.equal(config.automation.gate, true);
});

test('categorical features default to none and target labels to 0/1', () => {
  const config = loadConfig(folderWithConfig(BASE));
  assert.deepEqual(config.schema.categorical_features, []);
  assert.equal(config.schema.target_labels, undefined);
  const labelled = loadConfig(
    folderWithConfig({ ...BASE, schema: { categorical_features: ['state', 'plan'], target_labels: ['no', 'yes'] } }),
  );
  assert.deepEqual(labelled.schema.categorical_features, ['state', 'plan']);
  assert.deepEqual(labelled.schema.target_labels, ['no', 'yes']);
});

test('a URL is taken without the spaces around it', () => {
  const config = loadConfig(folderWithConfig({ ...BASE, api: { url: ' http://127.0.0.1:9000/ ' } }));
  assert.equal(config.api.url, 'http://127.0.0.1:9000/');
});

test('CORS is off by default, and origins are compared as browsers send them (lower case)', () => {
  assert.deepEqual(loadConfig(folderWithConfig(BASE)).api.cors_origins, []);
  const config = loadConfig(folderWithConfig({ ...BASE, api: { cors_origins: [' HTTP://App.Example:8080 '] } }));
  assert.deepEqual(config.api.cors_origins, ['http://app.example:8080']);
});

test('the shipped configs are valid', () => {
  for (const name of ['config.json', 'config.production.json']) {
    const config = loadConfig(path.join(REPO, name));
    assert.equal(path.dirname(config.input_folder_path), REPO);
  }
});

const BAD: [string, unknown, RegExp][] = [
  ['unknown key', { ...BASE, input_folder: 'x' }, /\(top level\): unknown key\(s\) "input_folder"/],
  ['missing key', { ...BASE, test_data_path: undefined }, /test_data_path: missing/],
  ['wrong type', { ...BASE, output_model_path: 5 }, /output_model_path: expected string, got number 5/],
  ['wrong type in a section', { ...BASE, model: { C: 'one' } }, /model\.C: expected number, got string "one"/],
  ['negative C', { ...BASE, model: { C: -1 } }, /model\.C: /],
  ['unknown rule', { ...BASE, drift: { rule: 'sometimes' } }, /drift\.rule: /],
  ['unknown section key', { ...BASE, api: { prot: 1 } }, /api: unknown key\(s\) "prot"/],
  ['target among features', { ...BASE, schema: { features: ['a', 'exited'] } }, /schema\.target/],
  ['missing input folder', { ...BASE, input_folder_path: 'nowhere' }, /input_folder_path: folder not found: .*nowhere/],
  ['missing test folder', { ...BASE, test_data_path: 'gone' }, /test_data_path: folder not found: .*gone/],
  ['not a JSON object', [1, 2], /\(top level\): expected object, got an array \[1,2\]/],
  ['a string for the whole config', '"hello"', /\(top level\): expected object, got string "hello"/],
  ['a section that is an array', { ...BASE, api: [] }, /api: expected object, got an array \[\]/],
  ['a section that is null', { ...BASE, automation: null }, /automation: expected object, got null/],
  ['every unknown key of a section', { ...BASE, api: { prot: 1, hots: 'x' } }, /api: unknown key\(s\) "prot", "hots"/],
  ['a fractional integer', { ...BASE, model: { max_iter: 1.5 } }, /model\.max_iter: must be a whole number/],
  ['an integer out of range', { ...BASE, api: { port: 70000 } }, /api\.port: must be at most 65535/],
  ['a body limit beyond safe integers', { ...BASE, api: { body_limit: 1e300 } }, /api\.body_limit: must be a byte count/],
  ['a URL that is not http', { ...BASE, api: { url: 'ftp://host/' } }, /api\.url: must be an http:\/\/ or https:\/\/ URL/],
  ['no URL at all', { ...BASE, api: { url: 'nope' } }, /api\.url: must be a URL/],
  ['a CORS origin with a path', { ...BASE, api: { cors_origins: ['http://app.example/ui'] } }, /api\.cors_origins\.0: must be an origin/],
  ['a CORS origin without a scheme', { ...BASE, api: { cors_origins: ['app.example'] } }, /api\.cors_origins\.0: must be an origin/],
  ['CORS origins not a list', { ...BASE, api: { cors_origins: 'http://app.example' } }, /api\.cors_origins: must be a list of origins/],
  ['an unknown drift rule', { ...BASE, drift: { rule: 'often' } }, /drift\.rule: must be one of "raw", "parametric", "nonparametric"/],
  ['a threshold of 0', { ...BASE, drift: { psi_threshold: 0 } }, /drift\.psi_threshold: must be greater than 0/],
  [
    'a body limit that is no size',
    { ...BASE, api: { body_limit: 'big' } },
    /api\.body_limit: must be a byte count or a size such as "5mb"/,
  ],
  ['duplicate features', { ...BASE, schema: { features: ['a', 'a'] } }, /schema\.features: feature names must be unique/],
  [
    'a categorical column also numeric',
    { ...BASE, schema: { features: ['a', 'b'], categorical_features: ['b'] } },
    /schema\.categorical_features: "b" is also listed in schema\.features/,
  ],
  [
    'a categorical target',
    { ...BASE, schema: { categorical_features: ['exited'] } },
    /schema\.categorical_features: "exited" is also the target/,
  ],
  [
    'a categorical id column',
    { ...BASE, schema: { categorical_features: ['corporation'] } },
    /schema\.categorical_features: "corporation" is also the id column/,
  ],
  [
    'duplicate categorical features',
    { ...BASE, schema: { categorical_features: ['s', 's'] } },
    /schema\.categorical_features: categorical feature names must be unique/,
  ],
  ['categorical features not a list', { ...BASE, schema: { categorical_features: 'state' } }, /schema\.categorical_features: /],
  ['one target label', { ...BASE, schema: { target_labels: ['no'] } }, /schema\.target_labels\.1: missing/],
  ['three target labels', { ...BASE, schema: { target_labels: ['no', 'yes', 'maybe'] } }, /schema\.target_labels\.2: must be a pair/],
  ['equal target labels', { ...BASE, schema: { target_labels: ['yes', 'yes'] } }, /schema\.target_labels: the two labels must differ/],
  ['an empty target label', { ...BASE, schema: { target_labels: ['', 'yes'] } }, /schema\.target_labels\.0: must not be empty/],
  ['a numeric target label', { ...BASE, schema: { target_labels: [0, 1] } }, /schema\.target_labels\.0: expected string/],
];

for (const [name, value, message] of BAD) {
  test(`config mistake is named: ${name}`, () => {
    const file = folderWithConfig(value);
    assert.throws(
      () => loadConfig(file),
      (error: unknown) =>
        error instanceof ConfigError && error.exitCode === 2 && message.test(error.message) && error.message.includes(file),
    );
  });
}

test('invalid JSON and a missing config file are config errors naming the file', () => {
  const file = folderWithConfig('{"input_folder_path": ');
  assert.throws(() => loadConfig(file), /is not valid JSON/);
  assert.throws(() => loadConfig(path.join(path.dirname(file), 'nope.json')), /config file not found: .*nope\.json/);
});

test('an output folder path that is a file is refused', () => {
  const file = folderWithConfig(BASE);
  fs.writeFileSync(path.join(path.dirname(file), 'models'), 'x');
  assert.throws(() => loadConfig(file), /output_model_path: not a folder/);
});

test('PORT overrides the configured port', () => {
  const file = folderWithConfig(BASE);
  process.env.PORT = '9123';
  try {
    assert.equal(validateConfig(BASE, file).api.port, 9123);
  } finally {
    delete process.env.PORT;
  }
});

test('a stage given a bad config exits 2 with the message on stderr', () => {
  const file = folderWithConfig({ ...BASE, bogus: true });
  const run = spawnSync(process.execPath, [path.join(REPO, 'dist', 'src', 'ingestion.js'), '--config', file], {
    encoding: 'utf8',
    env: { ...process.env, LOG_FORMAT: 'text' },
  });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /unknown key\(s\) "bogus"/);
  assert.match(JSON.parse(run.stdout).error, /unknown key/);
});

test('--help exits 0 and an unknown option exits 2', () => {
  const script = path.join(REPO, 'dist', 'src', 'training.js');
  const help = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--config <path>/);
  const bad = spawnSync(process.execPath, [script, '--frobnicate'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown option/);
});
