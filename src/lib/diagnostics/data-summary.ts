/** Summaries of a data file: statistics per numeric column and missing cells per column. */
import path from 'node:path';
import type { DataSchema } from '../config.js';
import { readCsvFile } from '../data/csv.js';
import { readDataset } from '../data/dataset.js';
import type { CategoryColumn } from '../data/levels.js';
import { describe, type ColumnSummary } from '../model/stats.js';

/** Summary of one categorical column: its filled cells, its levels, the most frequent ones and the empty cells. */
export interface LevelSummary {
  /** Non-empty cells. */
  count: number;
  /** Distinct non-empty levels. */
  levels: number;
  /** The most frequent levels (at most TOP_LEVELS), most frequent first (ties in order of first appearance), share of all rows. */
  top: { level: string; count: number; share: number }[];
  missing: number;
  /** Empty cells, percent (0-100) of the rows. */
  missing_percent: number;
}

/** Summary statistics of the ingested data, per numeric column and per categorical column. */
export interface SummaryStatistics {
  data_file: string;
  rows: number;
  columns: Record<string, ColumnSummary>;
  /** One entry per categorical feature of the schema. */
  categorical: Record<string, LevelSummary>;
}

/** Levels listed per categorical column by the summary. */
export const TOP_LEVELS = 10;

/** The summary of a categorical column. */
export function summarizeLevels(column: CategoryColumn, top = TOP_LEVELS): LevelSummary {
  const counts = new Float64Array(column.levels.length);
  for (let i = 0; i < column.codes.length; i++) counts[column.codes[i]]++;
  const rows = column.codes.length;
  const filled = column.levels.map((level, code) => ({ level, count: counts[code], code })).filter((entry) => entry.level !== '');
  filled.sort((a, b) => b.count - a.count || a.code - b.code);
  return {
    count: rows - column.missing,
    levels: filled.length,
    top: filled.slice(0, top).map(({ level, count }) => ({ level, count, share: rows === 0 ? 0 : count / rows })),
    missing: column.missing,
    missing_percent: rows === 0 ? 0 : (100 * column.missing) / rows,
  };
}

/** Missing cells per column of the ingested data. */
export interface MissingData {
  data_file: string;
  rows: number;
  columns: Record<string, { missing: number; percent: number }>;
}

/** Summary statistics (features and target) of a data file. */
export function summarizeData(file: string, schema: DataSchema): SummaryStatistics {
  const data = readDataset(file, schema, { label: path.basename(file) });
  const columns: Record<string, ColumnSummary> = {};
  data.features.forEach((feature, f) => (columns[feature] = describe(data.columns[f])));
  columns[schema.target] = describe(data.target!);
  const categorical = Object.fromEntries(data.categories.map((column) => [column.feature, summarizeLevels(column)]));
  return { data_file: file, rows: data.rows, columns, categorical };
}

/** Counts empty cells per column (every column of the file). */
export function countMissing(file: string): MissingData {
  let header: string[] | undefined;
  let counts: number[] = [];
  let rows = 0;
  readCsvFile(file, path.basename(file), (fields) => {
    if (!header) {
      header = fields;
      counts = fields.map(() => 0);
      return;
    }
    rows++;
    for (let i = 0; i < counts.length; i++) if (i >= fields.length || fields[i].trim() === '') counts[i]++;
  });
  const columns: MissingData['columns'] = {};
  (header ?? []).forEach((name, i) => (columns[name] = { missing: counts[i], percent: rows === 0 ? 0 : (100 * counts[i]) / rows }));
  return { data_file: file, rows, columns };
}
