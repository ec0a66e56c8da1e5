/**
 * The JSON records the stages write and other stages, the API and the report
 * read: their shapes, in one place. Where each lives is layout.ts's concern.
 */
import type { DependencyReport } from '../diagnostics/dependencies.js';
import type { MissingData, SummaryStatistics } from '../diagnostics/data-summary.js';
import type { Metrics } from '../model/metrics.js';

/** What ingestion learned about one input file. */
export interface IngestedFile {
  name: string;
  size: number;
  /** Modification time when read. */
  mtime_ms: number;
  /** Stat identity when read (device, inode, size, mtime and ctime in ns): lets a tick skip re-hashing an unchanged file. */
  stat_identity?: string;
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
