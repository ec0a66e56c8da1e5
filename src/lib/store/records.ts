/**
 * The JSON records the stages write and other stages, the API and the report
 * read: their shapes and the guards that check a file holds one, in one place.
 * Where each lives is layout.ts's concern.
 */
import type { DependencyReport } from '../diagnostics/dependencies.js';
import type { MissingData, SummaryStatistics } from '../diagnostics/data-summary.js';
import type { Metrics } from '../model/metrics.js';
import { UserError } from '../errors.js';
import { readJsonFileIfExists } from './files.js';

/** What ingestion learned about one input file. */
export interface IngestedFile {
  name: string;
  size: number;
  /** Modification time when read. */
  mtime_ms: number;
  /** Stat identity when read (device, inode, size, mtime and ctime in ns): lets a tick skip re-hashing an unchanged file. */
  stat_identity: string;
  sha256: string;
  rows_read: number;
  /** Rows of this file kept after dropping duplicates. */
  rows_kept: number;
  /** Empty cells per feature column. */
  missing: Record<string, number>;
  /** Set for empty or header-only files. */
  note?: string;
}

/** The machine-readable record of one ingestion. */
export interface IngestionRecord {
  format_version: 1;
  ingested_at: string;
  input_folder: string;
  output_file: string;
  columns: string[];
  files: IngestedFile[];
  totals: { files: number; rows_read: number; rows_kept: number; duplicates_dropped: number; missing: Record<string, number> };
  finaldata_sha256: string;
  duration_ms: number;
}

/** The scoring record: a model's metrics on a data file, and which model and file. */
export interface ScoreRecord extends Metrics {
  model_file: string;
  model_sha256: string;
  model_trained_at: string;
  data_file: string;
  data_sha256: string;
  scored_at: string;
}

/** The deployed model's predictions on the test data. */
export type PredictionsReport =
  | { status: 'ok'; model_version: number; data_file: string; rows: number; predictions: number[]; probabilities: number[] }
  | { status: 'unavailable'; reason: string };

/** Wall times of ingestion and training. */
export type TimingReport =
  { status: 'ok'; ingestion_seconds: number; training_seconds: number; rows: number } | { status: 'unavailable'; reason: string };

/** The diagnostics record. */
export interface DiagnosticsRecord {
  generated_at: string;
  model_version: number | null;
  predictions: PredictionsReport;
  summary_statistics: SummaryStatistics;
  missing_data: MissingData;
  timings: TimingReport;
  dependencies: DependencyReport;
}

/** True for a non-null, non-array object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when `value` has the ingestion record's shape (the fields its readers use). */
export function isIngestionRecord(value: unknown): value is IngestionRecord {
  return (
    isObject(value) && Array.isArray(value.files) && typeof value.ingested_at === 'string' && typeof value.finaldata_sha256 === 'string'
  );
}

/** True when `value` has the scoring record's shape. */
export function isScoreRecord(value: unknown): value is ScoreRecord {
  return isObject(value) && typeof value.model_sha256 === 'string' && typeof value.f1 === 'number';
}

/** True when `value` has the diagnostics record's shape. */
export function isDiagnosticsRecord(value: unknown): value is DiagnosticsRecord {
  return (
    isObject(value) &&
    isObject(value.summary_statistics) &&
    isObject(value.missing_data) &&
    isObject(value.timings) &&
    isObject(value.dependencies) &&
    Array.isArray(value.dependencies.packages)
  );
}

/**
 * Reads a record file checked by its guard: undefined when the file does not
 * exist; a UserError naming the file when it cannot be read, is not JSON, or
 * does not hold `what`.
 */
export function readRecordFile<T>(file: string, what: string, guard: (value: unknown) => value is T): T | undefined {
  const value = readJsonFileIfExists(file, what);
  if (value === undefined) return undefined;
  if (!guard(value)) throw new UserError(`${file} does not hold ${what}`);
  return value;
}
