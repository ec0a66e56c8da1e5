/**
 * What the report is made from: the records the reporting stage read, as one
 * ReportInputs, and the few facts about them more than one section asks.
 * Pure: everything arrives as arguments.
 */
import type { Dataset } from '../data/dataset.js';
import { FILE_NAMES } from '../layout.js';
import type { Metrics } from '../model/metrics.js';
import type { ModelFile } from '../model/model-file.js';
import type { VersionRecord } from '../store/deploy-store.js';
import type { DiagnosticsRecord, IngestionRecord, ScoreRecord } from '../store/records.js';
import type { FeatureDrift, RunRecord } from '../store/run-history.js';
import { type Gain, gainAt } from './figures.js';
import type { Chart } from './render.js';
import type { RiskList } from './risk-list.js';

/** The model the report is about: the deployed one, or the trained model when nothing is deployed. */
export interface ModelInUse {
  model: ModelFile;
  file: string;
  /** Null when the report fell back to an undeployed model. */
  deployment: { version: number; record: VersionRecord } | null;
}

/** The model's predictions on the labelled test data. */
export interface Evaluation {
  file: string;
  sha256: string;
  actual: Uint8Array;
  probabilities: Float64Array;
  metrics: Metrics;
  roc: { fpr: number; tpr: number }[];
}

/** The risk list of the newest ingested data under the model. */
export interface ScoredClients {
  file: string;
  list: RiskList;
  /** The data the list was made from (the feature values shown). */
  data: Dataset;
  /** SHA-256 of that file. */
  sha256: string;
}

/** Everything the report shows, read from disk by the reporting stage. */
export interface ReportInputs {
  generatedAt: Date;
  /** The config's id column; the target is the model's. */
  idColumn: string;
  /** How the target's two classes are written: schema.target_labels, or ["0", "1"]. */
  targetLabels: readonly [string, string];
  model: ModelInUse;
  /** The version deployed before the current one, for the coefficient comparison. */
  previous: { version: number; model: ModelFile } | null;
  evaluation: Evaluation;
  /** The scoring record of this model on this test data, when one exists. */
  score: { file: string; record: ScoreRecord } | null;
  diagnostics: DiagnosticsRecord | null;
  ingestion: IngestionRecord | null;
  clients: ScoredClients | null;
  runs: RunRecord[];
  versions: VersionRecord[];
  /** The configured data-drift thresholds. */
  drift: { psi_threshold: number; ks_alpha: number };
  /** What is missing or stale, as shown to the reader (also printed as warnings). */
  notes: string[];
  /** Clients in the call list (page 1 shows the first of them). */
  topClients: number;
  /** Share of clients the gain figure calls (0.1 = the riskiest 10 %). */
  gainShare: number;
}

/** The charts of the report, by role. */
export interface ReportCharts {
  confusion: Chart;
  roc: Chart;
  gain: Chart | null;
  f1: Chart | null;
  drift: { feature: string; chart: Chart }[];
}

/** Rows of the call list on page 1; the rest follow on page 2. */
export const PAGE_ONE_CLIENTS = 10;

/** Characters of an id shown (the CSV and the API carry it whole). */
export const ID_CHARACTERS = 40;

/** How chart subtitles name the model. */
export function modelLabel(model: ModelInUse): string {
  return model.deployment ? `model version ${model.deployment.version}` : `model not deployed (${FILE_NAMES.model})`;
}

/** The newest tick that measured data drift, and its per-feature figures. */
export function newestDataDrift(runs: RunRecord[]): { run: RunRecord; drift: Record<string, FeatureDrift> } | null {
  const run = [...runs].reverse().find((r) => r.data_drift && Object.keys(r.data_drift).length > 0);
  return run ? { run, drift: run.data_drift! } : null;
}

/** Features of a drift record, the largest PSI first. */
export function driftByPsi(drift: Record<string, FeatureDrift>): [string, FeatureDrift][] {
  return Object.entries(drift).sort((a, b) => (Number.isFinite(b[1].psi) ? b[1].psi : -1) - (Number.isFinite(a[1].psi) ? a[1].psi : -1));
}

/** The gain figure of the inputs' test data. */
export function gainFigure(inputs: Pick<ReportInputs, 'evaluation' | 'gainShare'>): Gain {
  return gainAt(inputs.evaluation.actual, inputs.evaluation.probabilities, inputs.gainShare);
}

export const MISSING_DIAGNOSTICS = `No diagnostics record (${FILE_NAMES.diagnostics}) could be read; run \`npm run diagnostics\` to fill this section.`;
