/**
 * `npm run <stage> > out.json` writes exactly the stage's result JSON: no npm
 * banner (the project's .npmrc), the result on one line off a terminal, and the
 * same for a failing stage (its error JSON, its exit code).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { runIngestion } from '../src/ingestion.js';
import { runTraining } from '../src/training.js';
import { REPO, makeProject, tempFolder, type TempProject } from './helpers.js';

let project: TempProject;
before(async () => {
  project = makeProject();
  await runIngestion(project.config);
  await runTraining(project.config);
});

/** Runs `npm run <args>` in the repository with stdout redirected to a file, as a shell would; the environment of a user's shell (no npm_* variables from the npm running the tests). */
function npmRunToFile(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = path.join(tempFolder(), 'out.json');
  const fd = fs.openSync(out, 'w');
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  try {
    const run = spawnSync('npm', ['run', ...args], { cwd: REPO, env, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    return { status: run.status, stdout: fs.readFileSync(out, 'utf8'), stderr: run.stderr };
  } finally {
    fs.closeSync(fd);
  }
}

test('npm run scoring > out.json gives a file that is the result JSON, on one line', () => {
  const { status, stdout, stderr } = npmRunToFile('scoring', '--', '--config', project.configFile);
  assert.equal(status, 0, stderr);
  const result = JSON.parse(stdout) as { f1: number };
  assert.equal(typeof result.f1, 'number');
  assert.equal(stdout.split('\n').length, 2, 'one line and its newline');
  for (const line of stderr.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), `stderr is JSON lines: ${line}`);
});

test('a failing stage gives its error JSON and its exit code, nothing from npm', () => {
  const { status, stdout } = npmRunToFile('scoring', '--', '--config', path.join(project.root, 'missing.json'));
  assert.equal(status, 2);
  const result = JSON.parse(stdout) as { error: string; exit_code: number };
  assert.match(result.error, /config file not found/);
  assert.equal(result.exit_code, 2);
});
