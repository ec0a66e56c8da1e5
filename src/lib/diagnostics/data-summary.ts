/** Summaries of a data file: statistics per numeric column and missing cells per column. */
import path from 'node:path';
import type { DataSchema } from '../config.js';
import { readCsvFile } from '../data/csv.js';
import { readDataset } from '../data/dataset.js';
import { describe, type ColumnSummary } from '../model/stats.js';

/** Summary statistics of the ingested data, per numeric column. */
export interface SummaryStatistics {
  data_file: string;
  rows: number;
  columns: Record<string, ColumnSummary>;
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
  return { data_file: file, rows: data.rows, columns };
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
