/**
 * The model-health metrics, read from the deployment store and the run history
 * when Prometheus scrapes:
 *
 *   risk_model_info{version,objective,deployed_at} 1   the deployed version
 *   risk_model_f1, risk_model_roc_auc                  its scores on the test data (its scoring record)
 *   risk_new_data_f1                                   newest drift check: deployed model on the new data
 *   risk_feature_psi{feature}, risk_feature_ks_pvalue{feature}   newest drift check, per feature
 *   risk_ticks_total{outcome}                          ticks in the run history
 *   risk_last_tick_timestamp_seconds{outcome}          when the newest tick of each outcome finished
 *   risk_model_reload_failures_total                   failed attempts to load a deployed version
 *   risk_deployed_model_version                        the version current in the store (risk_model_version: the one served)
 *   risk_drift_check_model_version                     the version the newest drift check scored
 *   risk_new_data_f1_threshold                         its model-drift rule's threshold (new-data F1 below it: drift)
 *   risk_feature_psi_threshold                         drift.psi_threshold of the config (PSI above it: a drifted feature)
 *   risk_last_refresh_timestamp_seconds{output,result} newest tick that refreshed (ok) or failed to refresh (failed) an output
 *   risk_lock_held_seconds{holder,purpose}             age of the tick lock's live lease (absent when free)
 *   risk_unrecorded_ticks_total                        ticks whose run record could not be written (unrecorded-ticks.ts)
 *   risk_last_unrecorded_tick_timestamp_seconds        when the newest of them finished
 *
 * A scrape costs one readlink and two stats when nothing changed: a version
 * folder never changes once published, so its records are read once per
 * version (and again only if the score file's inode, size or mtime moved), and
 * the run history is read from where the previous scrape stopped (run-tally.ts).
 * Label values are bounded: the outcomes of a tick, the config's features.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { currentVersion, isVersionRecord, versionFolder, type VersionRecord } from '../store/deploy-store.js';
import { messageOf, UserError } from '../errors.js';
import { parseJsonText } from '../store/files.js';
import { deployedFile, FILE_NAMES, STORE_NAMES } from '../layout.js';
import { isScoreRecord, type ScoreRecord } from '../store/records.js';
import { OUTCOMES } from '../store/run-history.js';
import { RunTally, type RunTallySnapshot } from './run-tally.js';
import { lockFolderOf, readLease, type LeaseState } from '../store/lock.js';
import { readUnrecordedTicks, type UnrecordedTicks } from '../store/unrecorded-ticks.js';
import type { ApiContext } from './routes.js';

/** The deployed version's record and test-data scores. */
interface DeployedModel {
  version: number;
  record: VersionRecord;
  /** Its scoring record, or null when the version has none (then F1 comes from the version record). */
  score: ScoreRecord | null;
}

/** What one scrape reports. */
interface HealthSnapshot {
  deployed: DeployedModel | null;
  runs: RunTallySnapshot | null;
  lease: LeaseState | null;
  unrecorded: UnrecordedTicks | null;
}

function statKey(stat: fs.Stats | undefined): string {
  return stat ? `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}` : 'none';
}

/** Reads the deployed version's records, once per version and score-file identity. */
class DeployedModelReader {
  private cached: { key: string; model: DeployedModel } | null = null;

  constructor(private readonly store: string) {}

  async read(): Promise<DeployedModel | null> {
    const version = currentVersion(this.store);
    if (version === null) return null;
    const folder = versionFolder(this.store, version);
    const scoreFile = deployedFile(folder, FILE_NAMES.scoreRecord);
    const stat = await fs.promises.stat(scoreFile).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    const key = `${version}:${statKey(stat)}`;
    if (this.cached?.key === key) return this.cached.model;
    const recordFile = path.join(folder, STORE_NAMES.versionRecord);
    const record = parseJsonText(await fs.promises.readFile(recordFile, 'utf8'), recordFile, 'the version record');
    if (!isVersionRecord(record)) throw new UserError(`${recordFile} does not hold a version record`);
    const score = stat ? parseJsonText(await fs.promises.readFile(scoreFile, 'utf8'), scoreFile, 'the scoring record') : null;
    if (score !== null && !isScoreRecord(score)) throw new UserError(`${scoreFile} does not hold a scoring record`);
    const model = { version, record, score };
    this.cached = { key, model };
    return model;
  }
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Sets a gauge without labels, or leaves it without a sample when the value is unknown (not a made-up 0). */
function setOrClear(gauge: Gauge, value: unknown): void {
  if (finite(value)) gauge.set(value);
  else gauge.remove();
}

/** Registers the model-health metrics of the context's store and run history in `registry`. */
export function registerHealthMetrics(registry: Registry, { config, paths, watcher, log }: ApiContext): void {
  const deployedReader = new DeployedModelReader(config.prod_deployment_path);
  const tally = new RunTally(paths.runHistory);
  const features = new Set([...config.schema.features, ...config.schema.categorical_features]);
  const reported = new Set<string>();
  let inFlight: Promise<HealthSnapshot> | null = null;

  /** Why a part could not be read, said once per distinct reason (a scrape still answers without it). */
  const unreadable = <T>(what: string) => {
    return (error: unknown): T | null => {
      const message = `metrics: cannot read ${what}: ${messageOf(error)}`;
      if (!reported.has(message)) log.warn(message);
      reported.add(message);
      return null;
    };
  };
  /** One read of the store and the history per scrape, however many metrics ask. */
  const snapshot = (): Promise<HealthSnapshot> => {
    const store = config.prod_deployment_path;
    inFlight ??= Promise.all([
      deployedReader.read().catch(unreadable<DeployedModel>('the deployed model')),
      tally.snapshot().catch(unreadable<RunTallySnapshot>('the run history')),
      // A folder listing and a small file each: read as they are, without the history.
      Promise.resolve()
        .then(() => readLease(lockFolderOf(store), config.automation.lock_stale_seconds))
        .catch(unreadable<LeaseState>('the tick lock')),
      Promise.resolve()
        .then(() => readUnrecordedTicks(store))
        .catch(unreadable<UnrecordedTicks>('the unrecorded ticks')),
    ])
      .then(([deployed, runs, lease, unrecorded]) => ({ deployed, runs, lease, unrecorded }))
      .finally(() => (inFlight = null));
    return inFlight;
  };

  // What every worker reads from the same files is reported once ('first'), not summed.
  new Gauge({
    name: 'risk_model_info',
    help: 'The deployed model version (value 1; its facts are the labels)',
    labelNames: ['version', 'objective', 'deployed_at'],
    aggregator: 'first',
    registers: [registry],
    async collect() {
      const { deployed } = await snapshot();
      this.reset();
      if (deployed) {
        const { version, record } = deployed;
        this.set({ version: String(version), objective: record.objective ?? 'unknown', deployed_at: record.deployed_at }, 1);
      }
    },
  });
  /** A gauge of one figure of the snapshot, absent while the figure is unknown. */
  const figure = (name: string, help: string, pick: (snapshot: HealthSnapshot) => number | undefined | null): void => {
    new Gauge({
      name,
      help,
      aggregator: 'first',
      registers: [registry],
      async collect() {
        setOrClear(this, pick(await snapshot()));
      },
    });
  };
  figure('risk_model_f1', 'F1 of the deployed model on the test data', ({ deployed }) => deployed?.score?.f1 ?? deployed?.record.f1);
  figure('risk_model_roc_auc', 'ROC AUC of the deployed model on the test data', ({ deployed }) => deployed?.score?.roc_auc);
  figure('risk_new_data_f1', 'F1 of the deployed model on the new data of the newest drift check', ({ runs }) => runs?.drift?.new_data_f1);
  const perFeature = (
    name: string,
    help: string,
    pick: (drift: { psi: number; ks_pvalue?: number; chi2_pvalue?: number }) => number | undefined,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames: ['feature'],
      aggregator: 'first',
      registers: [registry],
      async collect() {
        const { runs } = await snapshot();
        this.reset();
        for (const [feature, drift] of Object.entries(runs?.drift?.features ?? {})) {
          const value = pick(drift);
          if (features.has(feature) && finite(value)) this.set({ feature }, value);
        }
      },
    });
  };
  perFeature(
    'risk_feature_psi',
    'Population stability index of each feature, training data vs new data (newest drift check)',
    (d) => d.psi,
  );
  perFeature(
    'risk_feature_ks_pvalue',
    'Two-sample KS test p-value of each feature, training data vs new data (newest drift check)',
    (d) => d.ks_pvalue,
  );
  perFeature(
    'risk_feature_chi2_pvalue',
    'Chi-square test p-value of the level counts of each categorical feature, training data vs new data (newest drift check)',
    (d) => d.chi2_pvalue,
  );
  new Counter({
    name: 'risk_ticks_total',
    help: 'fullprocess ticks in the run history, by outcome',
    labelNames: ['outcome'],
    aggregator: 'first',
    registers: [registry],
    async collect() {
      const { runs } = await snapshot();
      this.reset();
      if (runs) for (const outcome of OUTCOMES) this.inc({ outcome }, runs.ticks[outcome]);
    },
  });
  new Gauge({
    name: 'risk_last_tick_timestamp_seconds',
    help: 'Unix time at which the newest tick of each outcome finished',
    labelNames: ['outcome'],
    aggregator: 'max',
    registers: [registry],
    async collect() {
      const { runs } = await snapshot();
      this.reset();
      for (const outcome of OUTCOMES) {
        const time = runs?.lastTick[outcome];
        if (time !== undefined) this.set({ outcome }, time);
      }
    },
  });
  figure('risk_deployed_model_version', 'Model version current in the deployment store', ({ deployed }) => deployed?.version);
  figure('risk_drift_check_model_version', 'Deployed model version the newest drift check scored', ({ runs }) => runs?.drift?.version);
  figure(
    'risk_new_data_f1_threshold',
    "Threshold of the newest drift check's model-drift rule: a new-data F1 below it is model drift",
    ({ runs }) => runs?.drift?.threshold,
  );
  figure(
    'risk_feature_psi_threshold',
    'drift.psi_threshold of the config: a feature with a PSI above it has drifted',
    () => config.drift.psi_threshold,
  );
  new Gauge({
    name: 'risk_last_refresh_timestamp_seconds',
    help: 'Unix time of the newest tick that refreshed an output (result="ok") or failed to (result="failed")',
    labelNames: ['output', 'result'],
    aggregator: 'max',
    registers: [registry],
    async collect() {
      const { runs } = await snapshot();
      this.reset();
      for (const [output, times] of Object.entries(runs?.refresh ?? {})) {
        for (const result of ['ok', 'failed'] as const) {
          const time = times[result];
          if (time !== undefined) this.set({ output, result }, time);
        }
      }
    },
  });
  new Gauge({
    name: 'risk_lock_held_seconds',
    help: 'Seconds since the holder took the tick lock, while its lease is live (renewed); absent when the lock is free',
    labelNames: ['holder', 'purpose'],
    aggregator: 'first',
    registers: [registry],
    async collect() {
      const { lease } = await snapshot();
      this.reset();
      if (!lease?.live) return;
      const since = Date.parse(lease.owner?.acquired_at ?? '');
      const holder = lease.owner ? `pid ${lease.owner.pid} on ${lease.owner.host}` : 'unreadable';
      // An unreadable lease counts from its newest renewal: at least that old.
      const seconds = (Date.now() - (Number.isFinite(since) ? since : lease.renewedAtMs)) / 1000;
      this.set({ holder, purpose: lease.owner?.purpose ?? 'unknown' }, Math.max(0, seconds));
    },
  });
  new Counter({
    name: 'risk_unrecorded_ticks_total',
    help: 'fullprocess ticks whose run record could not be written (a full disk); counted beside the history',
    aggregator: 'first',
    registers: [registry],
    async collect() {
      const { unrecorded } = await snapshot();
      this.reset();
      if (unrecorded) this.inc(unrecorded.unrecorded_ticks);
    },
  });
  figure(
    'risk_last_unrecorded_tick_timestamp_seconds',
    'Unix time at which the newest tick whose run record could not be written finished',
    ({ unrecorded }) => (unrecorded?.last ? Date.parse(unrecorded.last.finished_at) / 1000 : undefined),
  );
  new Counter({
    name: 'risk_model_reload_failures_total',
    help: 'Failed attempts to load a newly deployed model version (the previous one stays served)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(watcher.loadFailures());
    },
  });
}
