/**
 * The run history: one JSON line per fullprocess tick in
 * the run-history file of `prod_deployment_path`, appended and fsynced. The report and
 * `GET /runs` read it; a corrupt line is skipped with a warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { FILE_NAMES } from '../layout.js';
import { silentLogger } from '../log.js';
import { appendLine } from './files.js';

/** What a tick decided. */
export type Outcome = 'bootstrapped' | 'no-new-data' | 'no-drift' | 'redeployed' | 'rejected' | 'locked' | 'failed';

/** Per-feature data drift between training data and new data. */
export interface NumericDrift {
  kind?: undefined;
  psi: number;
  psi_bins: { edges: number[]; expected: number[]; actual: number[] };
  ks_statistic: number;
  ks_pvalue: number;
  drifted: boolean;
}

/** Data drift of one categorical feature: PSI over its training levels plus an "unseen" bin, and a chi-square test of the level counts. */
export interface LevelDrift {
  kind: 'categorical';
  psi: number;
  /** One bin per training level, then one for levels unseen in training (`levels` names them; the last is null). */
  psi_bins: { levels: (string | null)[]; expected: number[]; actual: number[] };
  chi2_statistic: number;
  chi2_pvalue: number;
  chi2_dof: number;
  drifted: boolean;
}

/** Data drift of one feature. */
export type FeatureDrift = NumericDrift | LevelDrift;

/** The p-value of a feature's drift test: KS for a numeric feature, chi-square for a categorical one. */
export function driftPValue(drift: FeatureDrift): number {
  return drift.kind === 'categorical' ? drift.chi2_pvalue : drift.ks_pvalue;
}

/** The name of a feature's drift test, for sentences. */
export function driftTestName(drift: FeatureDrift): string {
  return drift.kind === 'categorical' ? 'chi-square test' : 'KS test';
}

/** The model-drift decision and its numbers. */
export interface ModelDrift {
  rule: 'raw' | 'parametric' | 'nonparametric';
  /** F1 of the deployed model on the new data. */
  new_f1: number;
  /** F1 recorded when the deployed model was deployed. */
  deployed_f1: number;
  /** Scores the rule compared against (deployed F1s of the history). */
  history: number[];
  /** The rule's threshold: new_f1 below it means drift. */
  threshold: number;
  drifted: boolean;
  explanation: string;
}

/** One line of the run history. */
export interface RunRecord {
  run_id: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  config_file: string;
  outcome: Outcome;
  /** Files new to the deployed model (name and SHA-256). */
  new_files: { name: string; sha256: string }[];
  scores: {
    /** F1 of the deployed model on the test data when it was deployed. */
    deployed_f1: number | null;
    /** F1 of the deployed model on the newly ingested data. */
    new_data_f1: number | null;
    /** F1 of the retrained candidate on the test data. */
    candidate_f1: number | null;
  };
  model_drift: ModelDrift | null;
  data_drift: Record<string, FeatureDrift> | null;
  decision: string;
  /** Version current when the tick started (null: nothing deployed, or a locked tick that could not tell). */
  version_before: number | null;
  /** Version current when the tick ended: the new one after a deployment, else version_before. */
  version_after: number | null;
  /** Wall time of each step in ms. */
  durations: Record<string, number>;
  error: string | null;
  notes: string[];
  /** Outputs this tick refreshed (diagnostics, report); absent in records of older versions. */
  refreshed?: string[];
  /** Outputs this tick tried to refresh and could not (diagnostics, report, apicalls); their notes say why. */
  refresh_failed?: string[];
}

/**
 * Appends one record durably, in one write: on a full disk it is written whole
 * or not at all (appendLine cuts a partial write back), and the error names the file.
 */
export function appendRun(store: string, record: RunRecord): void {
  fs.mkdirSync(store, { recursive: true });
  appendLine(path.join(store, FILE_NAMES.runHistory), JSON.stringify(record) + '\n');
}

/** Every outcome a tick can have (the compiler checks none is missing). */
const OUTCOME_SET: Record<Outcome, true> = {
  bootstrapped: true,
  'no-new-data': true,
  'no-drift': true,
  redeployed: true,
  rejected: true,
  locked: true,
  failed: true,
};

/** The outcomes, in the order of the tick's stages. */
export const OUTCOMES = Object.keys(OUTCOME_SET) as Outcome[];

/** True for one of the outcomes. */
export function isOutcome(value: unknown): value is Outcome {
  return typeof value === 'string' && Object.hasOwn(OUTCOME_SET, value);
}

/** Parses one line of the history; throws an Error saying why when it is not a run record. */
export function parseRunLine(line: string): RunRecord {
  const value: unknown = JSON.parse(line);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a run record');
  if (!isOutcome((value as RunRecord).outcome)) throw new Error(`unknown outcome ${JSON.stringify((value as RunRecord).outcome)}`);
  return value as RunRecord;
}

/** Reads the history, oldest first; corrupt lines are skipped and logged. */
export function readRuns(store: string, log: Logger = silentLogger): RunRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(store, FILE_NAMES.runHistory), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const runs: RunRecord[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      runs.push(parseRunLine(line));
    } catch (error) {
      log.warn(`${FILE_NAMES.runHistory}:${index + 1}: skipped a corrupt line (${(error as Error).message})`);
    }
  });
  return runs;
}
