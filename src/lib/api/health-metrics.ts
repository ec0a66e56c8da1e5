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
    inFlight ??= Promise.all([
      deployedReader.read().catch(unreadable<DeployedModel>('the deployed model')),
      tally.snapshot().catch(unreadable<RunTallySnapshot>('the run history')),
    ])
      .then(([deployed, runs]) => ({ deployed, runs }))
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
