/**
 * Ingestion killed at any instant: the three outputs (final data, ingested-files
 * list, ingestion record) never disagree, and the next run removes what the
 * killed ones left (temporary files, staging folders, old generations).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runIngestion } from '../src/ingestion.js';
import { sha256File } from '../src/lib/store/files.js';
import { FILE_NAMES } from '../src/lib/layout.js';
import type { IngestionRecord } from '../src/lib/store/records.js';
import { REPO, deadPid, makeProject } from './helpers.js';

const SCRIPT = path.join(REPO, 'dist', 'src', 'ingestion.js');

/** Every entry under `folder`, relative, recursively (links not followed). */
function entries(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      out.push(path.relative(folder, full));
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(folder);
  return out.sort();
}

/** The three outputs describe the same merge: the record names the final data's hash and the listed files. */
function assertConsistent(outputFolder: string, what: string): void {
  const record = JSON.parse(fs.readFileSync(path.join(outputFolder, FILE_NAMES.ingestionRecord), 'utf8')) as IngestionRecord;
  assert.equal(sha256File(path.join(outputFolder, FILE_NAMES.finalData)), record.finaldata_sha256, `${what}: final data vs record`);
  const listed = fs.readFileSync(path.join(outputFolder, FILE_NAMES.ingestedFiles), 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(
    listed,
    record.files.map((file) => file.name),
    `${what}: ingested files vs record`,
  );
}

test('ingestion killed at random instants: outputs always agree; the next run leaves no debris', async () => {
  const project = makeProject();
  const output = project.config.output_folder_path;
  await runIngestion(project.config);
  assertConsistent(output, 'first run');
  // Enough data that a run takes a while: 4 files of 100,000 rows from the generator.
  execFileSync(process.execPath, [
    path.join(REPO, 'dist', 'scripts', 'generate-data.js'),
    '--out',
    project.root,
    '--only',
    'source',
    '--rows',
    '100000',
    '--files',
    '4',
    '--seed',
    '11',
  ]);
  for (const name of fs.readdirSync(path.join(project.root, 'sourcedata'))) {
    fs.renameSync(path.join(project.root, 'sourcedata', name), path.join(project.input, name));
  }
  const started = performance.now();
  await runIngestion(project.config);
  const runMs = performance.now() - started;
  assertConsistent(output, 'a whole run');

  // Alternate the inputs so that every run really changes the outputs.
  const extra = path.join(project.input, 'dataset5.csv');
  const aside = path.join(project.root, 'dataset5.csv.aside');
  const kills: string[] = [];
  for (let i = 0; i < 12; i++) {
    if (fs.existsSync(extra)) fs.renameSync(extra, aside);
    else fs.renameSync(aside, extra);
    const child = spawn(process.execPath, [SCRIPT, '--config', project.configFile], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    // Spread the kills over start-up and the whole run (node start, reading, merging, publishing).
    await sleep(60 + ((i * 7919) % 12) * ((runMs + 200) / 12));
    child.kill('SIGKILL');
    const [code, signal] = (await exited) as [number | null, string | null];
    kills.push(signal ?? `exit ${code}`);
    assertConsistent(output, `after kill ${i}`);
  }
  assert.ok(kills.includes('SIGKILL'), `some runs were killed mid-way (${kills.join(', ')})`);

  await runIngestion(project.config);
  assertConsistent(output, 'the run after the kills');
  const left = entries(output);
  assert.deepEqual(
    left.filter((name) => name.includes('.tmp-') || name.includes('.staging-')),
    [],
    'no temporary file or staging folder is left',
  );
  const generations = fs.readdirSync(path.join(output, FILE_NAMES.ingestionGenerations)).filter((name) => name !== 'current');
  assert.equal(generations.length, 1, `one generation is kept (${generations.join(', ')})`);
});

test('a temporary file of a killed writer is removed by the next write of the same target; a live writer keeps its own', () => {
  const project = makeProject();
  const models = project.config.output_model_path;
  fs.mkdirSync(models, { recursive: true });
  const dead = path.join(models, `.${FILE_NAMES.scoreText}.tmp-${deadPid()}-abcdef01`);
  const live = path.join(models, `.${FILE_NAMES.scoreText}.tmp-${process.ppid}-abcdef02`);
  fs.writeFileSync(dead, 'half');
  fs.writeFileSync(live, 'being written');
  execFileSync(process.execPath, [path.join(REPO, 'dist', 'src', 'ingestion.js'), '--config', project.configFile], { stdio: 'ignore' });
  execFileSync(process.execPath, [path.join(REPO, 'dist', 'src', 'training.js'), '--config', project.configFile], { stdio: 'ignore' });
  execFileSync(process.execPath, [path.join(REPO, 'dist', 'src', 'scoring.js'), '--config', project.configFile], { stdio: 'ignore' });
  assert.equal(fs.existsSync(dead), false, 'the dead writer left it: removed');
  assert.equal(fs.existsSync(live), true, 'a live process may still be writing it: kept');
});

test('a temporary link of a writer killed while switching is removed by the next switch; a live writer keeps its own', async () => {
  const project = makeProject();
  await runIngestion(project.config);
  const switchFolder = path.join(project.config.output_folder_path, FILE_NAMES.ingestionGenerations);
  const dead = path.join(switchFolder, `.current.tmp-${deadPid()}-abcdef01`);
  const live = path.join(switchFolder, `.current.tmp-${process.ppid}-abcdef02`);
  fs.symlinkSync('nowhere', dead);
  fs.symlinkSync('nowhere', live);
  await runIngestion(project.config);
  assert.equal(fs.lstatSync(dead, { throwIfNoEntry: false }), undefined, 'the dead writer left it: removed');
  assert.notEqual(fs.lstatSync(live, { throwIfNoEntry: false }), undefined, 'a live process may still be switching: kept');
});
