/**
 * fullprocess: one tick of the automation loop.
 *
 *   new data? -> ingest -> model drift of the deployed model on the new rows
 *   -> no drift: remember the files as checked
 *   -> drift: retrain, score, gate, deploy, then diagnostics, reporting, apicalls
 *
 * What comes next at each point is decided by `decideTick` (lib/tick-decision.ts);
 * this file observes, writes and deploys. Every tick appends one run record.
 * Only one tick runs at a time (lock).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from './lib/cli.js';
import { withScratchOutputs, type Config } from './lib/config.js';
import { currentVersion, listVersions, readCurrentDeployment, switchedAt, type CurrentDeployment } from './lib/store/deploy-store.js';
import { decideModelDrift, measureDataDrift, measureLevelDrift } from './lib/model/drift.js';
import { exitCodeOf, messageOf, UserError } from './lib/errors.js';
import { evaluateModel, readDataForModel } from './lib/model/evaluation.js';
import { makeScratchFolder } from './lib/store/files.js';
import { classifyFiles, readChecked, trackFiles, writeChecked, type CacheEntry, type TrackedFile } from './lib/automation/file-tracker.js';
import { listCsvFiles } from './lib/data/input-folder.js';
import { artefactPaths, deployedFile, FILE_NAMES } from './lib/layout.js';
import { isHeld, tryLock, type HeldLock } from './lib/store/lock.js';
import { silentLogger, type Logger } from './lib/log.js';
import { loadModelFile, type ModelFile } from './lib/model/model-file.js';
import { isIngestionRecord, readRecordFile, type IngestionRecord } from './lib/store/records.js';
import { noteUnrecordedTick, reserveUnrecordedTicks } from './lib/store/unrecorded-ticks.js';
import { appendRun, readRuns, type FeatureDrift, type ModelDrift, type Outcome, type RunRecord } from './lib/store/run-history.js';
import { decideTick, OUTPUTS, type OutputName, type TickObservation } from './lib/automation/tick-decision.js';
import { runDeployment } from './deployment.js';
import { concatCategories } from './lib/data/levels.js';
import { runIngestion } from './ingestion.js';
import { runScoring } from './scoring.js';
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
  /** The decision the tick is heading for, for the same report. */
  pendingDecision = '';
  /** Names of the files left for the next tick because they are still being written. */
  settling: string[] = [];
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
      refreshed: [],
      refresh_failed: [],
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
  const file = deployedFile(deployed.folder, FILE_NAMES.ingestionRecord);
  const record = readRecordFile(file, 'an ingestion record', isIngestionRecord);
  if (!record) throw new UserError(`the deployed ingestion record ${file} does not exist`);
  return record.files;
}

/** Hash-cache entries from an ingestion record. */
function hashCacheOf(files: IngestionRecord['files']): CacheEntry[] {
  return files.map((file) => ({ name: file.name, identity: file.stat_identity, sha256: file.sha256 }));
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
  const parts = files.map((file) => readDataForModel(path.join(config.input_folder_path, file.name), model, config.schema));
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
  const categories = model.categorical.map(({ feature }, c) =>
    concatCategories(
      feature,
      parts.map((part) => part.categories[c]),
    ),
  );
  const data = { features: model.features, columns, categories, target, ids: [], rows, missing: [] };
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
  const numericDrift =
    model.training_profile && rows > 0
      ? measureDataDrift(
          model.training_profile,
          Object.fromEntries(model.features.map((feature, f) => [feature, columns[f]])),
          config.drift,
        )
      : null;
  // A categorical feature's training profile is its level counts, in the model's categorical entry.
  const levelDrift =
    rows > 0
      ? Object.fromEntries(model.categorical.map((entry, c) => [entry.feature, measureLevelDrift(entry, categories[c], config.drift)]))
      : {};
  const dataDrift: Record<string, FeatureDrift> | null =
    numericDrift || Object.keys(levelDrift).length > 0 ? { ...numericDrift, ...levelDrift } : null;
  return { modelDrift, dataDrift };
}

/** Outputs missing or older than the last switch or the newest data: what a killed tick left out of date. */
function findStaleOutputs(config: Config): OutputName[] {
  const paths = artefactPaths(config);
  const mtime = (file: string): number | undefined => fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  const since = Math.max(switchedAt(config.prod_deployment_path) ?? 0, mtime(paths.finalData) ?? 0);
  const files: Record<OutputName, string[]> = {
    diagnostics: [paths.diagnostics],
    report: [paths.report, paths.confusionMatrix, paths.riskScores],
  };
  return OUTPUTS.filter((output) => files[output].some((file) => (mtime(file) ?? -1) < since));
}

/**
 * Refreshes outputs after the model or the data changed; their failures are
 * notes, not a failed tick. After a deployment, apicalls follow (once the API
 * serves `deployedVersion`); otherwise the stage timings of the diagnostics are
 * reused rather than measured again.
 */
async function refreshOutputs(
  config: Config,
  tick: Tick,
  outputs: readonly OutputName[],
  deployedVersion: number | null,
  log: Logger,
): Promise<void> {
  // These stages are loaded on demand (see the imports); a module that fails to
  // load is a note like any other failure of theirs: the deployment stands.
  const refreshed = (tick.record.refreshed ??= []);
  const failed = (tick.record.refresh_failed ??= []);
  if (outputs.includes('diagnostics')) {
    try {
      const { runDiagnostics } = await import('./diagnostics.js');
      const timings = deployedVersion === null ? 'reuse' : true;
      await tick.step('diagnostics', () => runDiagnostics(config, { timings }, log.child('diagnostics')));
      refreshed.push('diagnostics');
    } catch (error) {
      tick.record.notes.push(`diagnostics failed: ${messageOf(error)}`);
      failed.push('diagnostics');
    }
  }
  if (outputs.includes('report')) {
    try {
      const { runReporting } = await import('./reporting.js');
      const pendingRun = {
        ...tick.record,
        finished_at: new Date().toISOString(),
        outcome: tick.pendingOutcome,
        decision: tick.pendingDecision,
      };
      await tick.step('reporting', () => runReporting(config, { pendingRun }, log.child('reporting')));
      refreshed.push('report');
    } catch (error) {
      tick.record.notes.push(`reporting failed: ${messageOf(error)}`);
      failed.push('report');
    }
  }
  if (deployedVersion === null) return;
  try {
    const { apiBaseUrl, isApiUp, waitForApiVersion } = await import('./lib/automation/api-client.js');
    if (!(await isApiUp(config))) {
      tick.record.notes.push(`the API at ${apiBaseUrl(config)} is not running; apicalls skipped`);
      return;
    }
    const { runApiCalls } = await import('./apicalls.js');
    await tick.step('apicalls', async () => {
      await waitForApiVersion(config, deployedVersion, 3000);
      return runApiCalls(config, {}, log.child('apicalls'));
    });
  } catch (error) {
    tick.record.notes.push(`apicalls failed: ${messageOf(error)}`);
    failed.push('apicalls');
  }
}

/**
 * Where a tick works. The real tick writes the config's outputs and deploys;
 * a dry run writes into a scratch copy of the output folders and commits nothing.
 */
interface TickMode {
  /** Config whose output folders ingestion, training and scoring write into. */
  work: Config;
  /** Deploy, remember checked files, refresh outputs. */
  commit: boolean;
  /** The tick lock, asked before deploying whether its lease still holds. */
  lock?: HeldLock;
}

/** Runs a tick under `mode`, step by step as decideTick says; returns its finished record. */
async function runTick(config: Config, tick: Tick, mode: TickMode, log: Logger): Promise<RunRecord> {
  const store = config.prod_deployment_path;
  const { work, commit } = mode;
  const { checked, deployed, tracked, fresh, settling } = await tick.step('detect', () => surveyInput(config, tick));
  tick.settling = settling.map((file) => file.name);
  if (settling.length > 0) tick.record.notes.push(`still being written, left for the next tick: ${tick.settling.join(', ')}`);
  const waiting = new Set(settling);
  const ready = tracked.filter((file) => !waiting.has(file));
  tick.record.new_files = fresh.map(({ name, sha256 }) => ({ name, sha256 }));
  const seen: TickObservation = {
    deployedVersion: deployed?.version ?? null,
    readyFiles: ready.length,
    settlingFiles: settling.length,
    newFiles: fresh.length,
    staleOutputs: deployed ? findStaleOutputs(config) : [],
  };
  const rules = {
    gate: config.automation.gate,
    dataDriftTrigger: config.drift.data_drift_trigger,
    settleSeconds: config.automation.settle_seconds,
  };
  const remember = (outcome: string): void => {
    if (!commit) return;
    const now = new Date().toISOString();
    const kept = checked.checked.filter((entry) => !fresh.some((file) => file.name === entry.name));
    const judged = fresh.map(({ name, sha256 }) => ({ name, sha256, checked_at: now, outcome }));
    writeChecked(store, { checked: [...kept, ...judged], hashes: tracked });
  };
  const ingest = () => tick.step('ingestion', () => runIngestion(work, { files: ready.map((file) => file.name) }, log.child('ingestion')));
  const trainAndScore = async (): Promise<number> => {
    await tick.step('training', () => runTraining(work, {}, log.child('training')));
    const candidate = await tick.step('scoring', () => runScoring(work, {}, log.child('scoring')));
    tick.record.scores.candidate_f1 = candidate.f1;
    return candidate.f1;
  };

  for (;;) {
    const step = decideTick(seen, rules);
    switch (step.kind) {
      case 'finish':
        if (step.outcome !== 'no-new-data') remember(step.outcome);
        if (commit && step.refresh.length > 0) {
          tick.pendingOutcome = step.outcome;
          tick.pendingDecision = step.decision;
          await refreshOutputs(config, tick, step.refresh, null, log);
        }
        return tick.finish(step.outcome, step.decision);
      case 'bootstrap':
        await ingest();
        seen.bootstrapF1 = await trainAndScore();
        break;
      case 'check-drift': {
        await ingest();
        const model = loadModelFile(deployedFile(deployed!.folder, FILE_NAMES.model));
        const { modelDrift, dataDrift } = await tick.step('drift', () => checkDrift(config, deployed!, model, fresh, log));
        tick.record.model_drift = modelDrift;
        tick.record.data_drift = dataDrift;
        tick.record.scores.new_data_f1 = Number.isFinite(modelDrift.new_f1) ? modelDrift.new_f1 : null;
        const driftedFeatures = Object.entries(dataDrift ?? {}).flatMap(([feature, d]) => (d.drifted ? [feature] : []));
        seen.drift = { model: modelDrift, driftedFeatures };
        break;
      }
      case 'retrain': {
        const candidateF1 = await trainAndScore();
        const deployedModel = deployedFile(deployed!.folder, FILE_NAMES.model);
        const deployedNow = await tick.step('gate', () => runScoring(config, { model: deployedModel, write: false }));
        seen.gate = { candidateF1, deployedF1: deployedNow.f1 };
        break;
      }
      case 'deploy': {
        if (!commit) return tick.finish(step.outcome, `would deploy: ${step.reason}`);
        // A holder stopped for longer than the stale time (a suspended VM) may have been taken over meanwhile.
        const lost = mode.lock?.lost();
        if (lost) throw new Error(`the tick lost its lock before deploying (${lost}); nothing was deployed`);
        const origin = `fullprocess run ${tick.record.run_id}${step.outcome === 'bootstrapped' ? ' (bootstrap)' : ''}`;
        const result = await tick.step('deployment', () => runDeployment(config, { origin }, log.child('deployment')));
        tick.record.version_after = result.version;
        // A bootstrap judged no file against a model: only the hash cache is kept.
        if (step.outcome === 'bootstrapped') writeChecked(store, { checked: checked.checked, hashes: tracked });
        else remember(step.outcome);
        tick.pendingOutcome = step.outcome;
        tick.pendingDecision = `${step.reason}: deployed version ${result.version}`;
        await refreshOutputs(config, tick, OUTPUTS, result.version, log);
        return tick.finish(step.outcome, `${step.reason}: deployed version ${result.version}`);
      }
    }
  }
}

/** Runs one tick; never throws (a failure is the outcome `failed`). */
export async function runFullprocess(config: Config, options: FullprocessOptions = {}, log: Logger = silentLogger): Promise<TickResult> {
  const tick = new Tick(config);
  if (options.dryRun) return dryRun(config, tick, log);
  const store = config.prod_deployment_path;
  let lock: ReturnType<typeof tryLock>;
  try {
    lock = tryLock(store, config.automation.lock_stale_seconds, { purpose: 'fullprocess tick' });
  } catch (error) {
    return publish(config, tick.finish('failed', 'could not take the tick lock'), error, log);
  }
  if (!isHeld(lock)) {
    try {
      tick.record.version_before = currentVersion(store);
    } catch {
      // only informative here
    }
    return publish(config, tick.finish('locked', `another tick is running (lock ${lock.reason}); this one did nothing`), undefined, log);
  }
  try {
    reserveUnrecordedTicks(store);
    return publish(config, await runTick(config, tick, { work: config, commit: true, lock }, log), undefined, log);
  } catch (error) {
    return publish(config, tick.finish('failed', `the tick failed: ${messageOf(error)}`), error, log);
  } finally {
    lock.release();
  }
}

/**
 * Appends the run record and turns it into the printed result. A record that
 * cannot be written (a full disk) makes the tick `failed` (non-zero exit), is
 * logged on stderr naming the file, and is counted in the unrecorded-ticks file
 * that the API publishes without the history.
 */
function publish(config: Config, record: RunRecord, error: unknown, log: Logger): TickResult {
  if (error !== undefined) {
    record.error = messageOf(error);
    log.error(record.error);
  }
  let failure = error;
  try {
    appendRun(config.prod_deployment_path, record);
  } catch (appendError) {
    failure = appendError;
    const message = `the run record could not be written: ${messageOf(appendError)}`;
    log.error(message, { run_id: record.run_id, outcome: record.outcome });
    try {
      noteUnrecordedTick(config.prod_deployment_path, record, message);
    } catch (noteError) {
      log.error(`the unrecorded tick could not be counted either: ${messageOf(noteError)}`);
    }
    record.decision = `${record.decision} (outcome ${record.outcome}, but ${message})`;
    record.outcome = 'failed';
    record.error = record.error ? `${record.error}; ${message}` : message;
  }
  const { config_file: _configFile, ...result } = record;
  return record.outcome === 'failed' ? { ...result, exit_code: exitCodeOf(failure) } : result;
}

/** What a tick would do, decided by the same steps in a scratch folder; writes nothing of the project's. */
async function dryRun(config: Config, tick: Tick, log: Logger): Promise<TickResult> {
  const scratch = makeScratchFolder('dryrun');
  try {
    const record = await runTick(config, tick, { work: withScratchOutputs(config, scratch), commit: false }, log);
    const { config_file: _configFile, ...result } = record;
    return { ...result, dry_run: true, settling_files: tick.settling };
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
