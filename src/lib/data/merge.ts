/**
 * Reading one input file for the merge: every row validated against the schema
 * and turned into its duplicate key and its output text, handed to a sink in
 * file order. Ingestion's sink, `DuplicateFilter`, drops the rows seen before
 * and writes the rest. (Reading on a worker thread with the sink on the main one was measured: no
 * faster at 1,000,000 rows, since dropping duplicates, the main thread's half,
 * is the longer one; so both stay in one thread.)
 *
 * A plain line (no quote, canonical numbers) of a file whose columns are in
 * output order is its own key and output row, as bytes of the read buffer; any
 * other row gets a canonical key (numbers compared as numbers, as pandas) and
 * its output row in output column order.
 */
import fs from 'node:fs';
import type { DataSchema } from '../config.js';
import { formatCsvRecord, readCsvFile, type ReadCsvOptions } from './csv.js';
import {
  invalidFeature,
  invalidTarget,
  parseFeatureValue,
  parseTargetValue,
  PlainRecordScanner,
  raggedRow,
  type ColumnLayout,
} from './dataset.js';
import { statIdentity } from '../automation/file-tracker.js';
import type { IngestedFile } from '../store/records.js';
import { LineBatch, type RowSet } from './row-set.js';

/** How one file's columns map onto the output columns. */
export interface FilePlan {
  name: string;
  path: string;
  header?: string[];
  layout?: ColumnLayout;
  /** For each output column, the file's column index or -1. */
  mapping: number[];
  sameOrder: boolean;
}

/** The output columns every file is merged into. */
export interface MergeColumns {
  schema: DataSchema;
  outputColumns: string[];
  /** For each output column: true for a numeric feature or a 0/1 target (compared as numbers); text is compared as written. */
  numericOutput: boolean[];
}

/** Where a file's rows go, in file order. */
export interface RowSink {
  /** A row that is its own key and output: `bytes[start..end)`, valid until the next `flush`. */
  plain(bytes: Uint8Array, start: number, end: number): void;
  /** A row with its canonical key and its output row (both without a line break). */
  general(key: string, output: string): void;
  /** The bytes handed to `plain` are about to be reused. */
  flush(): void;
}

/** What the merged rows are written to. */
export interface RowOutput {
  write(text: string): void;
  writeBytes(bytes: Uint8Array, start: number, end: number): void;
  writeByte(byte: number): void;
}

/**
 * The merge's sink: drops every row seen before (in any file) and writes the
 * rest to `output`, each line ending with a line feed. Plain rows are looked up
 * a batch at a time, and a run of consecutive new lines is written in one piece.
 */
export class DuplicateFilter implements RowSink {
  /** Rows written since the last `takeKept()`. */
  private kept = 0;
  private readonly batch: LineBatch;
  private bytes?: Uint8Array;

  constructor(
    private readonly seen: RowSet,
    private readonly output: RowOutput,
    batchLines = 4096,
  ) {
    this.batch = new LineBatch(batchLines);
  }

  plain(bytes: Uint8Array, start: number, end: number): void {
    // Lines still waiting would be read from a buffer that may have been reused: the reader must flush first.
    if (this.bytes !== bytes && this.batch.count > 0) throw new Error('DuplicateFilter: plain lines of a new buffer before flush()');
    this.bytes = bytes;
    if (this.batch.push(start, end)) this.flush();
  }

  general(key: string, line: string): void {
    this.flush();
    if (!this.seen.add(key)) return;
    this.kept++;
    this.output.write(line + '\n');
  }

  flush(): void {
    const { batch, bytes, output } = this;
    if (batch.count === 0 || !bytes) return;
    this.kept += this.seen.addBatch(bytes, batch);
    const { starts, ends, fresh, count } = batch;
    for (let i = 0; i < count; i++) {
      if (fresh[i] === 0) continue;
      // Lines i..last are new and separated by a bare line feed: one piece of the buffer.
      let last = i;
      while (last + 1 < count && fresh[last + 1] === 1 && starts[last + 1] === ends[last] + 1) last++;
      output.writeBytes(bytes, starts[i], ends[last]);
      output.writeByte(10);
      i = last;
    }
    batch.count = 0;
    this.bytes = undefined;
  }

  /** Rows written since the last call. */
  takeKept(): number {
    this.flush();
    const kept = this.kept;
    this.kept = 0;
    return kept;
  }
}

/** What reading a file learned (how many rows were kept is the sink's to count). */
export type FileRows = Omit<IngestedFile, 'rows_kept'>;

/** Text of a numeric cell as compared for duplicates: `1.0` and `1` are the same value, as in pandas. */
export function canonicalNumber(text: string, value: number): string {
  if (value !== value) return '';
  const length = text.length;
  if (length > 0 && length < 16 && (text.charCodeAt(0) !== 48 || length === 1)) {
    let plain = true;
    for (let i = 0; i < length && plain; i++) {
      const code = text.charCodeAt(i);
      plain = code >= 48 && code <= 57;
    }
    if (plain) return text;
  }
  return String(value);
}

/** Streams one file, validating every row, and hands each row to `sink` (`chunkBytes`: the read size, 8 MiB by default). */
export function readFileRows(plan: FilePlan, columns: MergeColumns, sink: RowSink, options: { chunkBytes?: number } = {}): FileRows {
  const { schema, outputColumns, numericOutput } = columns;
  const missing = schema.features.map(() => 0);
  const categoryMissing = schema.categorical_features.map(() => 0);
  let rowsRead = 0;
  let headerSeen = false;
  const { name, layout, mapping, sameOrder } = plan;
  const outputCount = outputColumns.length;
  const values: string[] = new Array<string>(outputCount);
  const scanner = layout && sameOrder ? new PlainRecordScanner(layout) : undefined;

  const general = (fields: string[], line: number, raw: string): void => {
    const { columns: header, featureIndexes, categoricalIndexes, targetIndex, targetLabels } = layout!;
    if (fields.length !== header.length) throw raggedRow(name, line, header.length, fields.length);
    for (let f = 0; f < featureIndexes.length; f++) {
      const text = fields[featureIndexes[f]];
      const value = parseFeatureValue(text);
      if (value === undefined) throw invalidFeature(name, line, header[featureIndexes[f]], text);
      if (value !== value) missing[f]++;
    }
    for (let c = 0; c < categoricalIndexes.length; c++) if (fields[categoricalIndexes[c]] === '') categoryMissing[c]++;
    const targetText = fields[targetIndex];
    if (parseTargetValue(targetText, targetLabels) === undefined) {
      throw invalidTarget(name, line, header[targetIndex], targetText, targetLabels);
    }
    rowsRead++;
    let canonical = true;
    for (let o = 0; o < outputCount; o++) {
      const index = mapping[o];
      const text = index === -1 ? '' : fields[index];
      if (numericOutput[o] && text !== '') {
        const normal = canonicalNumber(text, parseFeatureValue(text)!);
        if (normal !== text) canonical = false;
        values[o] = normal;
      } else {
        values[o] = text;
      }
    }
    const key = sameOrder && canonical && raw.indexOf('"') === -1 ? raw : formatCsvRecord(values);
    sink.general(key, sameOrder ? raw : formatCsvRecord(mapping.map((index) => (index === -1 ? '' : fields[index]))));
  };

  const readOptions: ReadCsvOptions & { lazy: true } = {
    chunkBytes: options.chunkBytes,
    lazy: true,
    onPlainLinesEnd: () => sink.flush(),
    onPlainLine: (bytes, start, end) => {
      if (!headerSeen || !scanner?.scan(bytes, start, end)) return false;
      for (let f = 0; f < missing.length; f++) if (scanner.values[f] !== scanner.values[f]) missing[f]++;
      for (let c = 0; c < categoryMissing.length; c++) if (scanner.categoryStarts[c] === scanner.categoryEnds[c]) categoryMissing[c]++;
      rowsRead++;
      sink.plain(bytes, start, end);
      return true;
    },
  };
  // Taken before reading: a file changed while it is read then looks changed to the next tick.
  const stat = fs.statSync(plan.path, { bigint: true });
  const digest = readCsvFile(
    plan.path,
    name,
    (fields, line, raw) => {
      if (!headerSeen) {
        headerSeen = true;
        return;
      }
      general(fields ?? raw.split(','), line, raw);
    },
    readOptions,
  );
  const note = !headerSeen ? 'empty file (no header, no rows)' : rowsRead === 0 ? 'header only, no data rows' : undefined;
  return {
    name,
    size: digest.size,
    mtime_ms: Number(stat.mtimeNs) / 1e6,
    stat_identity: statIdentity(stat),
    sha256: digest.sha256,
    rows_read: rowsRead,
    missing: Object.fromEntries([
      ...schema.features.map((feature, f): [string, number] => [feature, missing[f]]),
      ...schema.categorical_features.map((feature, c): [string, number] => [feature, categoryMissing[c]]),
    ]),
    ...(note ? { note } : {}),
  };
}
