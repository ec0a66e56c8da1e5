/**
 * fullprocess: one tick of the automation loop (SPEC section 8).
 *
 *   new data? -> ingest -> model drift of the deployed model on the new rows
 *   -> no drift: remember the files as checked
 *   -> drift: retrain, score, gate, deploy, then diagnostics, reporting, apicalls
 *
 * Every tick appends one run record. Only one tick runs at a time (lock).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from './lib/cli.js';
import { withScratchOutputs, type Config } from './lib/config.js';
import { currentVersion, listVersions, readCurrentDeployment, type CurrentDeployment } from './lib/deploy-store.js';
import { decideModelDrift, measureDataDrift } from './lib/drift.js';
import { exitCodeOf, messageOf } from './lib/errors.js';
import { classifyFiles, readChecked, trackFiles, writeChecked, type TrackedFile } from './lib/file-tracker.js';
import { tryLock } from './lib/lock.js';
import { silentLogger, type Logger } from './lib/log.js';
import { loadModelFile, type ModelFile } from './lib/model.js';
import { appendRun, readRuns, type FeatureDrift, type ModelDrift, type Outcome, type RunRecord } from './lib/run-history.js';
import { runDeployment } from './deployment.js';
import { listCsvFiles, runIngestion, type IngestionRecord } from './ingestion.js';
import { evaluateModel, readDataForModel, runScoring } from './scoring.js';
import { runTraining } from './training.js';
// diagnostics, reporting (vega, pdfkit, resvg) and apicalls are imported when a
// tick deploys: loading them up front tripled the start-up time of an idle tick.

/** Options of a tick. */
export interface FullprocessOptions {
  /** Decide without writing anything (no lock, no record, no deployment). */
  dryRun?: boolean;
}

/** What a tick prints. */
export type TickResult = Omit<RunRecord, 'config_file'> & { dry_run?: boolean; settling_files?: string[]; exit_code?: number };

/** Steps of a tick write their timings and notes here. */
class Tick {
  readonly record: RunRecord;
  /** The outcome the tick is heading for, shown in a report made before the tick ends. */
  pendingOutcome: Outcome = 'failed';
  private readonly started = performance.now();
  constructor(config: Config) {
    this.record = {
      run_id: randomUUID(),
      started_at: new Date().toISOString(),
      finished_at: '',
      duration_ms: 0,
      config_file: config.configFile,
      outcome: 'failed',
      new_files: [],
      scores: { deployed_f1: null, new_data_f1: null, candidate_f1: null },
      model_drift: null,
      data_drift: null,
      decision: '',
      version_before: null,
      version_after: null,
      durations: {},
      error: null,
      notes: [],
    };
  }
  /** Runs one step and records its wall time. */
  async step<T>(name: string, work: () => Promise<T> | T): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.record.durations[name] = Math.round(performance.now() - started);
    }
  }
  finish(outcome: Outcome, decision: string): RunRecord {
    // A tick that deployed nothing leaves the version it found.
    if (this.record.version_after === null) this.record.version_after = this.record.version_before;
    this.record.outcome = outcome;
    this.record.decision = decision;
    this.record.finished_at = new Date().toISOString();
    this.record.duration_ms = Math.round(performance.now() - this.started);
    return this.record;
  }
}

/** The files the deployed model was trained on, from its ingestion record. */
function readDeployedFiles(deployed: CurrentDeployment | null): IngestionRecord['files'] {
  if (!deployed) return [];
  return (JSON.parse(fs.readFileSync(path.join(deployed.folder, 'ingestionrecord.json'), 'utf8')) as IngestionRecord).files ?? [];
}

/** Hash-cache entries from an ingestion record (records written before mtime_ms was kept give none). */
function hashCacheOf(files: IngestionRecord['files']): TrackedFile[] {
  return files.flatMap((file) =>
    typeof file.mtime_ms === 'number' ? [{ name: file.name, size: file.size, mtimeMs: file.mtime_ms, sha256: file.sha256 }] : [],
  );
}

/**
 * What the input folder holds against what the deployed model and earlier ticks
 * have seen: new files ready to ingest, and new files still being written.
 */
function surveyInput(config: Config, tick: Tick) {
  const store = config.prod_deployment_path;
  const checked = readChecked(store);
  const deployed = readCurrentDeployment(store);
  tick.record.version_before = deployed?.version ?? null;
  tick.record.scores.deployed_f1 = deployed?.record.f1 ?? null;
  const deployedFiles = readDeployedFiles(deployed);
  const tracked = trackFiles(config.input_folder_path, listCsvFiles(config.input_folder_path), [
    ...checked.hashes,
    ...hashCacheOf(deployedFiles),
  ]);
  const { fresh, settling } = classifyFiles(tracked, [...deployedFiles, ...checked.checked], config.automation.settle_seconds);
  return { checked, deployed, tracked, fresh, settling };
}

/** Scores of the deployed model history used by the statistical drift rules. */
function scoreHistory(config: Config, log: Logger): number[] {
  const deployed = listVersions(config.prod_deployment_path).flatMap((v) => (v.f1 === null ? [] : [v.f1]));
  const checked = readRuns(config.prod_deployment_path, log).flatMap((run) =>
    run.outcome === 'no-drift' && run.scores.new_data_f1 !== null ? [run.scores.new_data_f1] : [],
  );
  return [...deployed, ...checked];
}

/** Deployed model's F1 on the rows of the new files, and data drift of those rows. */
function checkDrift(
  config: Config,
  deployed: CurrentDeployment,
  model: ModelFile,
  files: TrackedFile[],
  log: Logger,
): { modelDrift: ModelDrift; dataDrift: Record<string, FeatureDrift> | null } {
  const parts = files.map((file) => readDataForModel(path.join(config.input_folder_path, file.name), model, config));
  const rows = parts.reduce((sum, part) => sum + part.rows, 0);
  const columns = model.features.map((_, f) => {
    const out = new Float64Array(rows);
    let offset = 0;
    for (const part of parts) {
      out.set(part.columns[f], offset);
      offset += part.rows;
    }
    return out;
  });
  const target = new Uint8Array(rows);
  let offset = 0;
  for (const part of parts) {
    target.set(part.target!, offset);
    offset += part.rows;
  }
  const data = { features: model.features, columns, target, ids: [], rows, missing: [] };
  const newF1 = rows === 0 ? NaN : evaluateModel(model, data).metrics.f1;
  const deployedF1 = deployed.record.f1 ?? NaN;
  const modelDrift =
    rows === 0
      ? {
          rule: config.drift.rule,
          new_f1: NaN,
          deployed_f1: deployedF1,
          history: [],
          threshold: NaN,
          drifted: false,
          explanation: 'the new files hold no rows',
        }
      : decideModelDrift(config.drift.rule, newF1, deployedF1, scoreHistory(config, log));
  const dataDrift =
    model.training_profile && rows > 0
      ? measureDataDrift(
          model.training_profile,
          Object.fromEntries(model.features.map((feature, f) => [feature, columns[f]])),
          config.drift,
        )
      : null;
  return { modelDrift, dataDrift };
}

/** After a deployment: diagnostics, reporting and apicalls; their failures are notes, not a failed tick. */
async function refreshOutputs(config: Config, tick: Tick, version: number, log: Logger): Promise<void> {
  // These stages are loaded on demand (see the imports); a module that fails to
  // load is a note like any other failure of theirs: the deployment stands.
  try {
    const { runDiagnostics } = await import('./diagnostics.js');
    await tick.step('diagnostics', () => runDiagnostics(config, {}, log.child('diagnostics')));
  } catch (error) {
    tick.record.notes.push(`diagnostics failed: ${messageOf(error)}`);
  }
  try {
    const { runReporting } = await import('./reporting.js');
    const pendingRun = { ...tick.record, finished_at: new Date().toISOString(), outcome: tick.pendingOutcome };
    await tick.step('reporting', () => runReporting(config, { pendingRun }, log.child('reporting')));
  } catch (error) {
    tick.record.notes.push(`reporting failed: ${messageOf(error)}`);
  }
  try {
    const { apiBaseUrl, isApiUp, runApiCalls } = await import('./apicalls.js');
    if (!(await isApiUp(config))) {
      tick.record.notes.push(`the API at ${apiBaseUrl(config)} is not running; apicalls skipped`);
      return;
    }
    await tick.step('apicalls', async () => {
      await waitForApiVersion(apiBaseUrl(config), config.api.token, version, 3000);
      return runApiCalls(config, {}, log.child('apicalls'));
    });
  } catch (error) {
    tick.record.notes.push(`apicalls failed: ${messageOf(error)}`);
  }
}

/** Waits until the API serves `version` (it polls the store), at most `timeoutMs`. */
async function waitForApiVersion(baseUrl: string, token: string | null, version: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  while (Date.now() < deadline) {
    try {
      const answer = (await (await fetch(baseUrl + '/health', { headers, signal: AbortSignal.timeout(1000) })).json()) as {
        model_version?: number;
      };
      if (answer.model_version === version) return;
    } catch {
      // not up or not yet switched
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The first model: ingest everything, train, score, deploy. */
async function bootstrap(config: Config, tick: Tick, files: TrackedFile[], onDeployed: () => void, log: Logger): Promise<RunRecord> {
  await tick.step('ingestion', () => runIngestion(config, { files: files.map((f) => f.name) }, log.child('ingestion')));
  await tick.step('training', () => runTraining(config, {}, log.child('training')));
  const score = await tick.step('scoring', () => runScoring(config, {}, log.child('scoring')));
  tick.record.scores.candidate_f1 = score.f1;
  const deployed = await tick.step('deployment', () =>
    runDeployment(config, { origin: `fullprocess run ${tick.record.run_id} (bootstrap)` }, log.child('deployment')),
  );
  tick.record.version_after = deployed.version;
  onDeployed();
  tick.pendingOutcome = 'bootstrapped';
  await refreshOutputs(config, tick, deployed.version, log);
  return tick.finish(
    'bootstrapped',
    `no model was deployed: trained on ${files.length} file(s) and deployed version ${deployed.version} (F1 ${score.f1.toFixed(4)})`,
  );
}

/** Runs one tick; never throws (a failure is the outcome `failed`). */
export async function runFullprocess(config: Config, options: FullprocessOptions = {}, log: Logger = silentLogger): Promise<TickResult> {
  const tick = new Tick(config);
  if (options.dryRun) return dryRun(config, tick, log);
  const store = config.prod_deployment_path;
  let release: (() => Promise<void>) | null = null;
  try {
    release = await tryLock(store, config.automation.lock_stale_seconds, log);
  } catch (error) {
    return publish(config, tick.finish('failed', 'could not take the tick lock'), error, log);
  }
  if (!release) {
    try {
      tick.record.version_before = currentVersion(store);
    } catch {
      // only informative here
    }
    const record = tick.finish('locked', 'another tick is running; this one did nothing');
    return publish(config, record, undefined, log);
  }
  try {
    return publish(config, await tickUnderLock(config, tick, log), undefined, log);
  } catch (error) {
    return publish(config, tick.finish('failed', `the tick failed: ${messageOf(error)}`), error, log);
  } finally {
    await release().catch(() => undefined);
  }
}

function publish(config: Config, record: RunRecord, error: unknown, log: Logger): TickResult {
  if (error !== undefined) {
    record.error = messageOf(error);
    log.error(record.error);
  }
  try {
    appendRun(config.prod_deployment_path, record);
  } catch (appendError) {
    log.error(`could not append the run record: ${messageOf(appendError)}`);
  }
  const { config_file: _configFile, ...result } = record;
  return record.outcome === 'failed' ? { ...result, exit_code: exitCodeOf(error) } : result;
}

async function tickUnderLock(config: Config, tick: Tick, log: Logger): Promise<RunRecord> {
  const store = config.prod_deployment_path;
  const { checked, deployed, tracked, fresh, settling } = await tick.step('detect', () => surveyInput(config, tick));
  if (settling.length > 0) tick.record.notes.push(`still being written, left for the next tick: ${settling.map((f) => f.name).join(', ')}`);
  tick.record.new_files = fresh.map(({ name, sha256 }) => ({ name, sha256 }));
  const remember = (outcome: string): void => {
    const now = new Date().toISOString();
    const kept = checked.checked.filter((entry) => !fresh.some((file) => file.name === entry.name));
    writeChecked(store, {
      checked: [...kept, ...fresh.map(({ name, sha256 }) => ({ name, sha256, checked_at: now, outcome }))],
      hashes: tracked,
    });
  };

  if (!deployed) {
    const ready = tracked.filter((file) => !settling.includes(file));
    if (ready.length === 0) {
      const reason =
        settling.length > 0
          ? `nothing is deployed yet and every *.csv file was modified in the last ${config.automation.settle_seconds} s (automation.settle_seconds); the next tick bootstraps from them`
          : 'nothing is deployed and the input folder has no *.csv file to bootstrap from';
      return tick.finish('no-new-data', reason);
    }
    return bootstrap(config, tick, ready, () => writeChecked(store, { checked: checked.checked, hashes: tracked }), log);
  }
  if (fresh.length === 0) {
    // Nothing but the run record is written here (SPEC 8). The hash cache is
    // saved by every tick that ingests, so an idle tick normally reads no data;
    // a file touched without changing is re-hashed until the next such tick.
    return tick.finish('no-new-data', 'no new or changed file in the input folder');
  }

  const settled = tracked.filter((file) => !settling.includes(file)).map((file) => file.name);
  await tick.step('ingestion', () => runIngestion(config, { files: settled }, log.child('ingestion')));
  const model = loadModelFile(path.join(deployed.folder, 'trainedmodel.json'));
  const { modelDrift, dataDrift } = await tick.step('drift', () => checkDrift(config, deployed, model, fresh, log));
  tick.record.model_drift = modelDrift;
  tick.record.data_drift = dataDrift;
  tick.record.scores.new_data_f1 = Number.isFinite(modelDrift.new_f1) ? modelDrift.new_f1 : null;
  const driftedFeatures = Object.entries(dataDrift ?? {})
    .filter(([, d]) => d.drifted)
    .map(([f]) => f);
  const dataTriggered = config.drift.data_drift_trigger && driftedFeatures.length > 0;
  if (!modelDrift.drifted && !dataTriggered) {
    remember('no-drift');
    const dataNote = driftedFeatures.length > 0 ? `; data drift in ${driftedFeatures.join(', ')} (not a trigger)` : '';
    return tick.finish('no-drift', `no model drift (${modelDrift.rule}): ${modelDrift.explanation}${dataNote}`);
  }

  await tick.step('training', () => runTraining(config, {}, log.child('training')));
  const candidate = await tick.step('scoring', () => runScoring(config, {}, log.child('scoring')));
  tick.record.scores.candidate_f1 = candidate.f1;
  const deployedNow = await tick.step('gate', () =>
    runScoring(config, { model: path.join(deployed.folder, 'trainedmodel.json'), write: false }),
  );
  const reason = modelDrift.drifted
    ? `model drift (${modelDrift.rule}): ${modelDrift.explanation}`
    : `data drift in ${driftedFeatures.join(', ')}`;
  if (config.automation.gate && candidate.f1 < deployedNow.f1) {
    remember('rejected');
    return tick.finish(
      'rejected',
      `${reason}; retrained, but the candidate's test F1 ${candidate.f1.toFixed(4)} is below the deployed model's ${deployedNow.f1.toFixed(4)} on the same test data: kept version ${deployed.version} (candidate left in ${config.output_model_path})`,
    );
  }
  const result = await tick.step('deployment', () =>
    runDeployment(config, { origin: `fullprocess run ${tick.record.run_id}` }, log.child('deployment')),
  );
  tick.record.version_after = result.version;
  remember('redeployed');
  tick.pendingOutcome = 'redeployed';
  await refreshOutputs(config, tick, result.version, log);
  return tick.finish(
    'redeployed',
    `${reason}; candidate test F1 ${candidate.f1.toFixed(4)} vs deployed ${deployedNow.f1.toFixed(4)}: deployed version ${result.version}`,
  );
}

/** Decides what a tick would do, working in a scratch folder; writes nothing of the project's. */
async function dryRun(config: Config, tick: Tick, log: Logger): Promise<TickResult> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'risk-dryrun-'));
  try {
    const scratchConfig = withScratchOutputs(config, scratch);
    const { deployed, tracked, fresh, settling } = surveyInput(config, tick);
    tick.record.new_files = fresh.map(({ name, sha256 }) => ({ name, sha256 }));
    const settled = tracked.filter((file) => !settling.includes(file)).map((file) => file.name);
    let record: RunRecord;
    if (!deployed) {
      record = tick.finish(
        settled.length > 0 ? 'bootstrapped' : 'no-new-data',
        settled.length > 0 ? `would bootstrap a first model from ${settled.length} file(s)` : 'nothing to bootstrap from',
      );
    } else if (fresh.length === 0) {
      record = tick.finish('no-new-data', 'no new or changed file in the input folder');
    } else {
      await runIngestion(scratchConfig, { files: settled });
      const model = loadModelFile(path.join(deployed.folder, 'trainedmodel.json'));
      const { modelDrift, dataDrift } = checkDrift(config, deployed, model, fresh, log);
      tick.record.model_drift = modelDrift;
      tick.record.data_drift = dataDrift;
      tick.record.scores.new_data_f1 = Number.isFinite(modelDrift.new_f1) ? modelDrift.new_f1 : null;
      const dataTriggered = config.drift.data_drift_trigger && Object.values(dataDrift ?? {}).some((d) => d.drifted);
      if (!modelDrift.drifted && !dataTriggered) {
        record = tick.finish('no-drift', `would record the files as checked: ${modelDrift.explanation}`);
      } else {
        await runTraining(scratchConfig);
        const candidate = await runScoring(scratchConfig, { write: false });
        const deployedNow = await runScoring(config, { model: path.join(deployed.folder, 'trainedmodel.json'), write: false });
        tick.record.scores.candidate_f1 = candidate.f1;
        const rejected = config.automation.gate && candidate.f1 < deployedNow.f1;
        record = tick.finish(
          rejected ? 'rejected' : 'redeployed',
          `would ${rejected ? 'reject' : 'deploy'} the candidate: test F1 ${candidate.f1.toFixed(4)} vs deployed ${deployedNow.f1.toFixed(4)}`,
        );
      }
    }
    const { config_file: _configFile, ...result } = record;
    return { ...result, dry_run: true, settling_files: settling.map((f) => f.name) };
  } catch (error) {
    const { config_file: _configFile, ...result } = tick.finish('failed', `the dry run failed: ${messageOf(error)}`);
    return { ...result, error: messageOf(error), dry_run: true };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ dryRun?: boolean }>({
    name: 'fullprocess',
    description: 'One tick: check for new data and model drift; retrain, score and redeploy when needed',
    options: (program) => program.option('--dry-run', 'report what the tick would do without writing anything'),
    run: (config, options, log) => runFullprocess(config, options, log),
    exitCodeFor: (result) => ((result as TickResult).outcome === 'failed' ? ((result as TickResult).exit_code ?? 1) : 0),
  });
}
