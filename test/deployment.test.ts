/**
 * Deployment: numbered versions switched in atomically, --list, --rollback,
 * clear errors, and production always one whole version even when the
 * deploying process is killed at random points.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { listDeployments, rollbackDeployment, runDeployment } from '../src/deployment.js';
import { runIngestion } from '../src/ingestion.js';
import { readCurrentDeployment } from '../src/lib/store/deploy-store.js';
import { PUBLISHED_FILES } from '../src/lib/layout.js';
import { NotFoundError, UserError } from '../src/lib/errors.js';
import { sha256 } from '../src/lib/store/files.js';
import { loadModelFile } from '../src/lib/model/model-file.js';
import { runScoring } from '../src/scoring.js';
import { runTraining } from '../src/training.js';
import { REPO, makeProject, snapshot, withoutLeases } from './helpers.js';

async function trainedProject() {
  const project = makeProject();
  await runIngestion(project.config);
  await runTraining(project.config);
  await runScoring(project.config);
  return project;
}

/** Production is one whole version: every published file present and consistent with its record. */
function assertWhole(store: string): number {
  const current = readCurrentDeployment(store);
  assert.ok(current, 'a version is current');
  for (const name of PUBLISHED_FILES) assert.ok(fs.existsSync(path.join(current.folder, name)), `${name} in version ${current.version}`);
  const modelText = fs.readFileSync(path.join(store, 'trainedmodel.json'));
  assert.equal(sha256(modelText), current.record.model_sha256, "top-level model is the current version's");
  loadModelFile(path.join(store, 'trainedmodel.json'));
  assert.equal(Number(fs.readFileSync(path.join(store, 'latestscore.txt'), 'utf8')), current.record.f1);
  const score = JSON.parse(fs.readFileSync(path.join(store, 'latestscore.json'), 'utf8'));
  assert.equal(score.model_sha256, current.record.model_sha256);
  return current.version;
}

test('each deployment is a new numbered version that becomes current; top-level names show it', async () => {
  const project = await trainedProject();
  const store = project.config.prod_deployment_path;
  const first = await runDeployment(project.config);
  assert.equal(first.version, 1);
  assert.equal(first.previous, null);
  assert.equal(assertWhole(store), 1);
  const second = await runDeployment(project.config);
  assert.equal(second.version, 2);
  assert.equal(second.previous, 1);
  assert.equal(assertWhole(store), 2);
  assert.equal(
    fs.readFileSync(path.join(store, 'ingestedfiles.txt'), 'utf8'),
    fs.readFileSync(path.join(project.config.output_folder_path, 'ingestedfiles.txt'), 'utf8'),
  );
  const list = listDeployments(project.config);
  assert.deepEqual(
    list.versions.map((v) => [v.version, v.current]),
    [
      [1, false],
      [2, true],
    ],
  );
  assert.equal(list.current, 2);
  assert.equal(list.versions[1].f1, Number(fs.readFileSync(path.join(project.config.output_model_path, 'latestscore.txt'), 'utf8')));
});

test('rollback: to a named version, and without a number to the previously current one', async () => {
  const project = await trainedProject();
  const store = project.config.prod_deployment_path;
  for (let i = 0; i < 3; i++) await runDeployment(project.config);
  assert.deepEqual(rollbackDeployment(project.config, 1), { action: 'rollback', version: 1, previous: 3 });
  assert.equal(assertWhole(store), 1);
  assert.deepEqual(rollbackDeployment(project.config), { action: 'rollback', version: 3, previous: 1 });
  assert.equal(assertWhole(store), 3);
  assert.equal(listDeployments(project.config).versions.length, 3, 'versions stay on disk');
});

test('bad deployment requests are clear errors and leave production as it was', async () => {
  const project = await trainedProject();
  const store = project.config.prod_deployment_path;
  assert.throws(
    () => rollbackDeployment(project.config),
    (e: unknown) => e instanceof UserError && /nothing is deployed/.test(e.message),
  );
  await runDeployment(project.config);
  const before = withoutLeases(snapshot(store));
  assert.throws(
    () => rollbackDeployment(project.config, 9),
    (e: unknown) => e instanceof NotFoundError && e.exitCode === 2 && /version 9 does not exist .*versions: 1/.test(e.message),
  );
  assert.throws(() => rollbackDeployment(project.config), /no version was current before version 1/);
  assert.throws(() => rollbackDeployment(project.config, 1), /already current/);
  // A model changed after scoring must not be deployed with the stale score.
  await runTraining(project.config, {});
  const modelFile = path.join(project.config.output_model_path, 'trainedmodel.json');
  const model = JSON.parse(fs.readFileSync(modelFile, 'utf8'));
  model.intercept += 1;
  fs.writeFileSync(modelFile, JSON.stringify(model));
  await assert.rejects(runDeployment(project.config), /scores a different model .*run scoring again/);
  fs.rmSync(path.join(project.config.output_model_path, 'latestscore.txt'));
  await assert.rejects(runDeployment(project.config), /latestscore\.txt not found \(run scoring first\)/);
  assert.deepEqual(withoutLeases(snapshot(store)), before);
});

test('the command line: --list, --rollback and a bad version number', async () => {
  const project = await trainedProject();
  const script = path.join(REPO, 'dist', 'src', 'deployment.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [script, '--config', project.configFile, ...args], { encoding: 'utf8' });
  assert.equal(run().status, 0);
  assert.equal(run().status, 0);
  const list = JSON.parse(run('--list').stdout);
  assert.deepEqual(
    list.versions.map((v: { version: number; current: boolean }) => [v.version, v.current]),
    [
      [1, false],
      [2, true],
    ],
  );
  const back = run('--rollback');
  assert.equal(back.status, 0);
  assert.equal(JSON.parse(back.stdout).version, 1);
  const bad = run('--rollback', 'two');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /not a version number/);
  const missing = run('--rollback', '7');
  assert.equal(missing.status, 2);
});

test('killing deployment at random points always leaves one whole version current', async () => {
  const project = await trainedProject();
  const store = project.config.prod_deployment_path;
  await runDeployment(project.config);
  const script = path.join(REPO, 'dist', 'src', 'deployment.js');
  let killedMidway = 0;
  for (let round = 0; round < 24; round++) {
    const child = spawn(process.execPath, [script, '--config', project.configFile], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const delay = 40 + ((round * 37) % 160);
    await new Promise((resolve) => setTimeout(resolve, delay));
    child.kill('SIGKILL');
    if ((await exited) === null) killedMidway++;
    assertWhole(store);
  }
  // A deployment after all the kills still works and numbers on.
  const next = await runDeployment(project.config);
  assert.equal(assertWhole(store), next.version);
  assert.ok(killedMidway > 0, 'at least one deployment was killed before it finished');
});
