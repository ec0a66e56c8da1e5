/**
 * fullprocess under faults: bad new files, concurrent ticks,
 * a lock left by a killed tick, ticks killed at random instants, a corrupt run
 * history, a file still being written, and --dry-run. Ticks run as processes
 * (`node dist/src/fullprocess.js --config <file>`) where exit codes, locks
 * and kills matter.
 *
 * Data from the project's generator: practice and test data as shipped
 * (--seed 2), a file like the practice data (--only source --seed 3 --drift 0,
 * v1 F1 0.8221 on it: no drift) and a drifted one (--only source --seed 4
 * --drift 1, v1 F1 0.3043 on it: redeployed with candidate F1 0.7875 > 0.6374).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { runFullprocess, type TickResult } from '../src/fullprocess.js';
import { validateConfig, type Config } from '../src/lib/config.js';
import { readCurrentDeployment } from '../src/lib/store/deploy-store.js';
import { FILE_NAMES, PUBLISHED_FILES, STORE_NAMES } from '../src/lib/layout.js';
import { sha256 } from '../src/lib/store/files.js';
import { Random } from '../src/lib/data/generator.js';
import { isHeld, tryLock } from '../src/lib/store/lock.js';
import type { Logger } from '../src/lib/log.js';
import { loadModelFile } from '../src/lib/model/model-file.js';
import { readRuns } from '../src/lib/store/run-history.js';

const LOCK_NAME = FILE_NAMES.lock;
const RUN_HISTORY = FILE_NAMES.runHistory;
import { REPO, makeProject, snapshot, tempFolder, type TempProject } from './helpers.js';

const SCRIPT = path.join(REPO, 'dist', 'src', 'fullprocess.js');
const HEADER = 'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited';

/** Runs the project's data generator into `out`. */
function generate(out: string, args: string): void {
  execFileSync(process.execPath, [path.join(REPO, 'dist', 'scripts', 'generate-data.js'), '--out', out, ...args.split(' ')], {
    stdio: 'pipe',
  });
}

const data = tempFolder();
generate(data, '--only practice --seed 2 --rows 300 --files 2');
generate(data, '--only test --seed 2 --test-rows 400');
generate(data, '--only source --seed 3 --rows 300 --files 1 --first-index 3 --drift 0');
generate(data, '--only source --seed 4 --rows 300 --files 1 --first-index 4 --drift 1');
const CALM = path.join(data, 'sourcedata', 'dataset3.csv');
const DRIFTED = path.join(data, 'sourcedata', 'dataset4.csv');

/** Config sections every test project gets: no settle time, no network, no foreign API. */
const BASE = {
  automation: { settle_seconds: 0, lock_stale_seconds: 2 },
  api: { url: 'http://127.0.0.1:1' },
  diagnostics: { outdated_timeout_ms: 100 },
};

let template: TempProject | undefined;
/** Parent of the project copies (one exit handler for all of them). */
const copies = tempFolder();
/** A project with version 1 bootstrapped from the practice data (bootstrapped once, then copied). */
async function bootstrapped(overrides: Record<string, Record<string, unknown>> = {}): Promise<TempProject & { store: string }> {
  if (!template) {
    template = makeProject({ input: path.join(data, 'practicedata'), testData: path.join(data, 'testdata'), extra: BASE });
    const boot = await runFullprocess(template.config);
    assert.equal(boot.outcome, 'bootstrapped', boot.error ?? boot.decision);
  }
  const root = fs.mkdtempSync(path.join(copies, 'project-'));
  // Times kept, as a tick compares its outputs' times with the data's.
  fs.cpSync(template.root, root, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const raw = JSON.parse(fs.readFileSync(template.configFile, 'utf8')) as Record<string, unknown>;
  for (const [section, values] of Object.entries(overrides)) raw[section] = { ...(raw[section] as object), ...values };
  const configFile = path.join(root, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(raw, null, 2));
  const config: Config = validateConfig(raw, configFile);
  return { root, configFile, config, input: config.input_folder_path, store: config.prod_deployment_path };
}

/** Runs a tick as a process; resolves with its exit code and parsed stdout. */
async function tickProcess(
  configFile: string,
  ...args: string[]
): Promise<{ code: number | null; result: TickResult; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [SCRIPT, '--config', configFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, result: JSON.parse(stdout) as TickResult, stderr, ms: performance.now() - started };
}

/** The production folder minus the run history (which every tick appends to). */
function production(store: string): Record<string, string> {
  const files = snapshot(store);
  delete files[RUN_HISTORY];
  return files;
}

/** Production is one whole version: `current` resolves and every published file agrees with its record. */
function assertWhole(store: string, what: string): number {
  const current = readCurrentDeployment(store);
  assert.ok(current, `${what}: a version is current`);
  for (const name of PUBLISHED_FILES) {
    assert.ok(fs.existsSync(path.join(current.folder, name)), `${what}: ${name} in version ${current.version}`);
    assert.equal(
      fs.readFileSync(path.join(store, name), 'utf8'),
      fs.readFileSync(path.join(current.folder, name), 'utf8'),
      `${what}: top-level ${name}`,
    );
  }
  const modelFile = path.join(current.folder, 'trainedmodel.json');
  loadModelFile(modelFile);
  assert.equal(sha256(fs.readFileSync(modelFile)), current.record.model_sha256, `${what}: model matches its record`);
  assert.equal(
    Number(fs.readFileSync(path.join(current.folder, 'latestscore.txt'), 'utf8')),
    current.record.f1,
    `${what}: latestscore.txt is the version's F1`,
  );
  assert.equal(
    JSON.parse(fs.readFileSync(path.join(current.folder, 'latestscore.json'), 'utf8')).model_sha256,
    current.record.model_sha256,
    `${what}: latestscore.json scores this model`,
  );
  assert.equal(JSON.parse(fs.readFileSync(path.join(store, STORE_NAMES.versionRecord), 'utf8')).version, current.version);
  return current.version;
}

/** A logger that keeps warnings and errors. */
function recordingLogger(lines: string[]): Logger {
  const log: Logger = { debug: () => {}, info: () => {}, warn: (m) => lines.push(m), error: (m) => lines.push(m), child: () => log };
  return log;
}

// ---------------------------------------------------------------------------

const BAD_FILES: { case: string; text: string; problem: RegExp }[] = [
  {
    case: 'a missing column',
    text: `corporation,lastmonth_activity,lastyear_activity,employees,exited\nabcd,10,120,40,0\n`,
    problem: /number_of_employees/,
  },
  { case: 'a word in a feature', text: `${HEADER}\nabcd,10,twelve,40,0\n`, problem: /:2, column "lastyear_activity".*twelve/ },
  { case: 'a target of 2', text: `${HEADER}\nabcd,10,120,40,0\nefgh,11,130,41,2\n`, problem: /:3, column "exited"/ },
  { case: 'a short row', text: `${HEADER}\nabcd,10,120,40\n`, problem: /:2/ },
  { case: 'an unterminated quote', text: `${HEADER}\n"abcd,10,120,40,0\n`, problem: /dataset9\.csv/ },
];

test('a bad new file: outcome failed naming the file, exit 2, production untouched, reported again until fixed', async () => {
  for (const [index, bad] of BAD_FILES.entries()) {
    const project = await bootstrapped();
    const file = path.join(project.input, 'dataset9.csv');
    fs.writeFileSync(file, bad.text);
    const before = production(project.store);
    const historyBefore = readRuns(project.store).length;

    const first = await tickProcess(project.configFile);
    assert.equal(first.code, 2, `${bad.case}: exit code (${first.stderr})`);
    assert.equal(first.result.outcome, 'failed', bad.case);
    assert.equal(first.result.exit_code, 2, bad.case);
    assert.match(first.result.error!, /dataset9\.csv/, `${bad.case}: the error names the file`);
    assert.match(first.result.error!, bad.problem, `${bad.case}: ${first.result.error}`);
    assert.deepEqual(
      first.result.new_files.map((f) => f.name),
      ['dataset9.csv'],
    );
    assert.equal(first.result.version_before, 1);
    assert.equal(first.result.version_after, 1);
    assert.deepEqual(production(project.store), before, `${bad.case}: production untouched`);
    const runs = readRuns(project.store);
    assert.equal(runs.length, historyBefore + 1);
    assert.equal(runs.at(-1)!.outcome, 'failed');
    assert.equal(runs.at(-1)!.error, first.result.error);

    // Not remembered: the next tick reports the same file again.
    const second = await tickProcess(project.configFile);
    assert.equal(second.code, 2, bad.case);
    assert.equal(second.result.error, first.result.error, `${bad.case}: reported again`);
    assert.deepEqual(production(project.store), before);

    if (index === 0) {
      // Removed: nothing new any more.
      fs.rmSync(file);
      const removed = await runFullprocess(project.config);
      assert.equal(removed.outcome, 'no-new-data', `${bad.case}: after removing the file (${removed.error ?? removed.decision})`);
      continue;
    }
    // Fixed (valid rows like the practice data): the tick proceeds.
    fs.copyFileSync(CALM, file);
    const fixed = await runFullprocess(project.config);
    assert.equal(fixed.outcome, 'no-drift', `${bad.case}: after the fix (${fixed.error ?? fixed.decision})`);
    assert.deepEqual(
      fixed.new_files.map((f) => f.name),
      ['dataset9.csv'],
    );
  }
});

test('a tick while another holds the lock returns `locked` at once (exit 0) and changes nothing', async () => {
  const project = await bootstrapped();
  fs.copyFileSync(DRIFTED, path.join(project.input, 'dataset4.csv'));
  const before = production(project.store);
  const lock = tryLock(project.store, 2);
  assert.ok(isHeld(lock), 'the test holds the lock');
  try {
    const blocked = await tickProcess(project.configFile);
    assert.equal(blocked.code, 0);
    assert.equal(blocked.result.outcome, 'locked');
    assert.equal(blocked.result.version_before, 1);
    assert.ok(blocked.result.duration_ms < 1000, `a locked tick returns at once (${blocked.result.duration_ms} ms inside the process)`);
    assert.ok(blocked.ms < 5000, `the process took ${Math.round(blocked.ms)} ms`);
    const lockStat = fs.lstatSync(path.join(project.store, LOCK_NAME));
    const withoutLock = production(project.store);
    for (const name of Object.keys(withoutLock)) if (name.startsWith(LOCK_NAME)) delete withoutLock[name];
    assert.deepEqual(withoutLock, before, 'nothing deployed or checked');
    assert.ok(lockStat.isSymbolicLink());
    const locked = readRuns(project.store).at(-1)!;
    assert.equal(locked.outcome, 'locked');
    assert.match(locked.decision, new RegExp(`held by pid ${process.pid} on this host`), 'the locked tick says who holds the lock');
  } finally {
    lock.release();
  }
  const free = await runFullprocess(project.config);
  assert.equal(free.outcome, 'redeployed', free.error ?? free.decision);
  assert.equal(fs.existsSync(path.join(project.store, LOCK_NAME)), false, 'the lock is released');
});

test('two ticks started at once: one does the work, the other is locked (or finds nothing new)', async () => {
  const project = await bootstrapped();
  fs.copyFileSync(DRIFTED, path.join(project.input, 'dataset4.csv'));
  const results = await Promise.all([tickProcess(project.configFile), tickProcess(project.configFile)]);
  const outcomes = results.map((r) => r.result.outcome).sort();
  console.log(`two ticks at once: ${results.map((r) => `${r.result.outcome} in ${Math.round(r.ms)} ms`).join(', ')}`);
  assert.ok(
    JSON.stringify(outcomes) === JSON.stringify(['locked', 'redeployed']) ||
      JSON.stringify(outcomes) === JSON.stringify(['no-new-data', 'redeployed']),
    `outcomes ${outcomes.join(', ')}`,
  );
  assert.deepEqual(
    results.map((r) => r.code),
    [0, 0],
  );
  assert.equal(assertWhole(project.store, 'after two ticks'), 2);
  assert.deepEqual(fs.readdirSync(path.join(project.store, 'versions')).sort(), ['1', '2'], 'exactly one new version');
  assert.equal(readRuns(project.store).filter((r) => r.outcome === 'redeployed').length, 1);
});

test('a lock left by a killed tick does not block the next tick, which takes it over and releases it', async () => {
  const project = await bootstrapped();
  const holder = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { tryLock } = await import(${JSON.stringify(path.join(REPO, 'dist', 'src', 'lib', 'store', 'lock.js'))});
     const lock = tryLock(${JSON.stringify(project.store)}, 15);
     process.stdout.write('release' in lock ? 'held\\n' : 'busy\\n');
     setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [first] = (await once(holder.stdout, 'data')) as [Buffer];
  assert.equal(first.toString().trim(), 'held');
  const whileAlive = await tickProcess(project.configFile);
  assert.equal(whileAlive.result.outcome, 'locked', 'a live holder keeps its lock');
  holder.kill('SIGKILL');
  await once(holder, 'exit');
  assert.ok(fs.lstatSync(path.join(project.store, LOCK_NAME), { throwIfNoEntry: false }), 'the killed holder left its lock');

  const next = await tickProcess(project.configFile);
  assert.equal(next.code, 0);
  assert.equal(next.result.outcome, 'no-new-data', `the tick after the kill proceeds (${next.result.decision})`);
  assert.equal(fs.lstatSync(path.join(project.store, LOCK_NAME), { throwIfNoEntry: false }), undefined, 'taken over and released');
});

test('ticks killed (SIGKILL) at random instants leave one whole version; the next tick completes', async () => {
  const random = new Random(20_240);
  const delays = Array.from({ length: 5 }, () => Math.round(random.next() * 1500));
  const seen: string[] = [];
  for (const delay of delays) {
    const project = await bootstrapped();
    fs.copyFileSync(DRIFTED, path.join(project.input, 'dataset4.csv'));
    const child = spawn(process.execPath, [SCRIPT, '--config', project.configFile], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    await sleep(delay);
    child.kill('SIGKILL');
    const [code, signal] = (await exited) as [number | null, string | null];
    const version = assertWhole(project.store, `killed after ${delay} ms`);
    const runs = readRuns(project.store);
    seen.push(
      `${delay} ms: ${signal ?? `exit ${code}`}, version ${version} current, lock ${fs.existsSync(path.join(project.store, LOCK_NAME)) ? 'left' : 'free'}, ${runs.length} run record(s)`,
    );

    const next = await runFullprocess(project.config);
    assert.ok(
      ['redeployed', 'no-new-data'].includes(next.outcome),
      `after a kill at ${delay} ms: ${next.outcome} (${next.error ?? next.decision})`,
    );
    assert.equal(next.outcome === 'no-new-data', version === 2, 'the next tick redeploys exactly when the killed one had not');
    // Usually version 2; version 3 if the kill fell between filling versions/2 and switching to it.
    const final = assertWhole(project.store, `after the tick following a kill at ${delay} ms`);
    assert.equal(
      final,
      Math.max(
        ...fs
          .readdirSync(path.join(project.store, 'versions'))
          .filter((n) => /^\d+$/.test(n))
          .map(Number),
      ),
      'the newest version is current',
    );
    assert.ok(final >= 2);
    assert.ok(readRuns(project.store).length >= 2, 'run history still readable');
  }
  console.log(`kills: ${seen.join('; ')}`);
});

test('a corrupt run-history line is skipped with a warning and the next tick still appends', async () => {
  const project = await bootstrapped();
  const history = path.join(project.store, RUN_HISTORY);
  const valid = readRuns(project.store).length;
  // A garbage line, then a torn line without its newline (a writer killed mid-line).
  fs.appendFileSync(history, 'not json at all\n');
  fs.appendFileSync(history, '{"run_id":"torn","outc');
  const first = await runFullprocess(project.config);
  assert.equal(first.outcome, 'no-new-data');
  const warnings: string[] = [];
  const runs = readRuns(project.store, recordingLogger(warnings));
  assert.equal(runs.length, valid + 1, 'the torn line does not swallow the next record');
  assert.equal(runs.at(-1)!.run_id, first.run_id);
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0], new RegExp(`${RUN_HISTORY}:${valid + 1}: skipped a corrupt line`));
  assert.match(warnings[1], new RegExp(`${RUN_HISTORY}:${valid + 2}: skipped a corrupt line`));
  const second = await runFullprocess(project.config);
  assert.deepEqual(
    readRuns(project.store)
      .slice(-2)
      .map((r) => r.run_id),
    [first.run_id, second.run_id],
  );
});

test('a file still being written (modified within settle_seconds) waits for the next tick', async () => {
  const project = await bootstrapped({ automation: { settle_seconds: 30 } });
  const file = path.join(project.input, 'dataset3.csv');
  fs.copyFileSync(CALM, file);
  const before = snapshot(project.root);
  delete before[path.join('production_deployment', RUN_HISTORY)];
  const waiting = await runFullprocess(project.config);
  assert.equal(waiting.outcome, 'no-new-data');
  assert.deepEqual(waiting.new_files, []);
  assert.ok(
    waiting.notes.some((note) => /still being written.*dataset3\.csv/.test(note)),
    waiting.notes.join('; '),
  );
  const after = snapshot(project.root);
  delete after[path.join('production_deployment', RUN_HISTORY)];
  assert.deepEqual(after, before, 'a settling file is neither ingested nor remembered');

  const settled = (Date.now() - 60_000) / 1000;
  fs.utimesSync(file, settled, settled);
  const next = await runFullprocess(project.config);
  assert.equal(next.outcome, 'no-drift', next.error ?? next.decision);
  assert.deepEqual(
    next.new_files.map((f) => f.name),
    ['dataset3.csv'],
  );
});

test('--dry-run writes nothing and reports the outcome the tick would have', async () => {
  // Nothing deployed yet: would bootstrap.
  const fresh = makeProject({ input: path.join(data, 'practicedata'), testData: path.join(data, 'testdata'), extra: BASE });
  const empty = snapshot(fresh.root);
  const wouldBoot = await tickProcess(fresh.configFile, '--dry-run');
  assert.equal(wouldBoot.code, 0);
  assert.equal(wouldBoot.result.outcome, 'bootstrapped');
  assert.equal(wouldBoot.result.dry_run, true);
  assert.deepEqual(snapshot(fresh.root), empty);
  assert.equal(fs.existsSync(fresh.config.prod_deployment_path), false);

  // Each kind of new data: the dry run's outcome, then the real tick's, on the same project.
  const cases: { file?: string; outcome: TickResult['outcome'] }[] = [
    { outcome: 'no-new-data' },
    { file: CALM, outcome: 'no-drift' },
    { file: DRIFTED, outcome: 'redeployed' },
  ];
  for (const c of cases) {
    const project = await bootstrapped();
    if (c.file) fs.copyFileSync(c.file, path.join(project.input, path.basename(c.file)));
    const whole = snapshot(project.root);
    const dry = await tickProcess(project.configFile, '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.result.dry_run, true);
    assert.equal(dry.result.outcome, c.outcome, dry.result.decision);
    assert.deepEqual(snapshot(project.root), whole, `dry run (${c.outcome}) wrote nothing`);
    const real = await runFullprocess(project.config);
    assert.equal(real.outcome, c.outcome, 'the real tick agrees');
    assert.deepEqual(real.new_files, dry.result.new_files);
    assert.equal(real.scores.new_data_f1, dry.result.scores.new_data_f1);
    if (c.outcome === 'redeployed') assert.equal(real.scores.candidate_f1, dry.result.scores.candidate_f1);
  }
});

test('a tick killed after deploying but before reporting: the next tick refreshes diagnostics and report, once', async () => {
  const project = await bootstrapped();
  // The state such a kill leaves: version 2 deployed, the outputs still those of version 1.
  fs.copyFileSync(DRIFTED, path.join(project.input, 'dataset4.csv'));
  const { runIngestion } = await import('../src/ingestion.js');
  const { runTraining } = await import('../src/training.js');
  const { runScoring } = await import('../src/scoring.js');
  const { runDeployment } = await import('../src/deployment.js');
  await runIngestion(project.config);
  await runTraining(project.config);
  await runScoring(project.config);
  assert.equal((await runDeployment(project.config)).version, 2);
  const diagnosticsFile = path.join(project.config.output_model_path, FILE_NAMES.diagnostics);
  assert.equal(JSON.parse(fs.readFileSync(diagnosticsFile, 'utf8')).model_version, 1, 'outputs of version 1 left');

  const repair = await runFullprocess(project.config);
  assert.equal(repair.outcome, 'no-new-data', repair.error ?? repair.decision);
  assert.deepEqual(repair.refreshed, ['diagnostics', 'report'], repair.notes.join('; '));
  assert.match(repair.decision, /refreshed the diagnostics and report/);
  assert.equal(JSON.parse(fs.readFileSync(diagnosticsFile, 'utf8')).model_version, 2);

  // Only the missing report next time; then nothing.
  fs.rmSync(path.join(project.config.output_model_path, FILE_NAMES.report));
  const missing = await runFullprocess(project.config);
  assert.deepEqual(missing.refreshed, ['report']);
  assert.ok(fs.existsSync(path.join(project.config.output_model_path, FILE_NAMES.report)));
  const quiet = await runFullprocess(project.config);
  assert.deepEqual(quiet.refreshed, []);
  assert.equal(quiet.decision, 'no new or changed file in the input folder');
});
