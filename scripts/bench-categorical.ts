/**
 * The categorical part of `npm run bench` (issue 20): ingestion and training
 * processes on the same rows with and without five categorical columns (one of
 * 50 levels), the ratio against the target (within 1.5x), and scikit-learn's
 * ColumnTransformer pipeline timed as a whole process beside our categorical
 * training (target: our peak memory below scikit-learn's).
 *
 * Before the categorical core is there (the config validator does not know
 * `schema.categorical_features`), the rows with categories are ingested as
 * extra columns, our categorical training is skipped ("needs categorical
 * support") and scikit-learn still trains on those rows.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BENCH_CATEGORICAL,
  REFERENCE,
  categoricalBenchData,
  hasCategoricalSupport,
  stage,
  summarize,
  timeProcess,
  type Measurement,
  type Summary,
} from './bench-lib.js';

/** What the categorical bench needs to know. */
export interface CategoricalBenchOptions {
  rows: number;
  files: number;
  runs: number;
  /** Run scikit-learn's pipeline (python3 has pandas and scikit-learn). */
  withReference: boolean;
}

/** What it measured, its table lines and what it skipped. */
export interface CategoricalBenchResult {
  results: Record<string, unknown>;
  lines: string[];
  skipped: string[];
}

const NEEDS_SUPPORT = 'needs categorical support (schema.categorical_features is not in this build)';
const RATIO_TARGET = 1.5;

/** Runs each job once a round, in turn, for `runs` rounds; a summary per job. */
async function alternate(label: string, jobs: Record<string, () => Promise<Measurement>>, runs: number): Promise<Record<string, Summary>> {
  const measured: Record<string, Measurement[]> = Object.fromEntries(Object.keys(jobs).map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    const parts: string[] = [];
    for (const [name, job] of Object.entries(jobs)) {
      const m = await job();
      measured[name].push(m);
      parts.push(`${name} ${m.seconds.toFixed(3)} s, ${m.peak_rss_mb.toFixed(0)} MB`);
    }
    process.stderr.write(`  ${label} run ${i + 1}: ${parts.join('; ')}\n`);
  }
  return Object.fromEntries(Object.entries(measured).map(([name, runsOf]) => [name, summarize(runsOf)]));
}

/** Runs the categorical bench. */
export async function benchCategorical(options: CategoricalBenchOptions): Promise<CategoricalBenchResult> {
  const data = categoricalBenchData(options.rows, options.files);
  const supported = hasCategoricalSupport();
  const skipped: string[] = [];
  if (!supported) skipped.push(`categorical training skipped: ${NEEDS_SUPPORT}; the rows with categories were ingested as extra columns`);
  const node = (name: string, configFile: string) => () => timeProcess('node', stage(name), ['--config', configFile]);
  const withConfig = supported ? data.withCategories.configFile : data.extraColumnsConfig;

  process.stderr.write(`categorical bench, ${options.rows.toLocaleString('en')} rows, columns ${BENCH_CATEGORICAL.join(', ')}:\n`);
  const ingestion = await alternate(
    'ingestion',
    { without: node('ingestion', data.withoutCategories.configFile), with: node('ingestion', withConfig) },
    options.runs,
  );
  const finalData = path.join(data.withCategories.folder, 'ingesteddata', 'finaldata.csv');
  const trainingJobs: Record<string, () => Promise<Measurement>> = { without: node('training', data.withoutCategories.configFile) };
  if (supported) trainingJobs.with = node('training', data.withCategories.configFile);
  if (options.withReference) {
    fs.mkdirSync(path.join(data.withCategories.folder, 'reference'), { recursive: true });
    trainingJobs['scikit-learn'] = () =>
      timeProcess('python', path.join(REFERENCE, 'training_categorical.py'), [
        finalData,
        path.join(data.withCategories.folder, 'reference', 'pipeline.pkl'),
        'lastmonth_activity,lastyear_activity,number_of_employees',
        BENCH_CATEGORICAL.join(','),
        'exited',
      ]);
  } else skipped.push('scikit-learn pipeline skipped (no Python reference)');
  const training = await alternate('training', trainingJobs, options.runs);

  const atTarget = options.rows === 1_000_000;
  const verdict = (met: boolean): string => (atTarget ? (met ? ': met' : ': NOT met') : '');
  const cell = (s: Summary | undefined, key: keyof Measurement, digits: number, unit: string): string =>
    s ? `${s[key].toFixed(digits)} ${unit}` : 'skipped';
  const lines = [
    `| ${options.rows.toLocaleString('en')} rows: without / with 5 categorical columns (region: 50 levels) | without | with | with / without | target |`,
    '|---|---|---|---|---|',
  ];
  const pair = (label: string, summaries: Record<string, Summary>, note: string) => {
    const { without, with: withCategories } = summaries;
    for (const [key, digits, unit, what] of [
      ['seconds', 2, 's', 'wall'],
      ['peak_rss_mb', 0, 'MB', 'peak RSS'],
    ] as const) {
      const ratio = withCategories ? withCategories[key] / without[key] : null;
      const target = key === 'seconds' && ratio !== null ? `<= ${RATIO_TARGET}x${verdict(ratio <= RATIO_TARGET)}` : '';
      lines.push(
        `| ${label}${note}, ${what} | ${cell(without, key, digits, unit)} | ${withCategories ? cell(withCategories, key, digits, unit) : NEEDS_SUPPORT} | ${ratio === null ? '' : ratio.toFixed(2)} | ${target} |`,
      );
    }
  };
  pair('ingestion process', ingestion, supported ? '' : ' (categories as extra columns)');
  pair('training process', training, '');
  const reference = training['scikit-learn'];
  if (reference) {
    const ours = training.with;
    const memory = ours ? ours.peak_rss_mb / reference.peak_rss_mb : null;
    lines.push(
      `| scikit-learn ColumnTransformer pipeline, training process | | ${cell(reference, 'seconds', 2, 's')}, ${cell(reference, 'peak_rss_mb', 0, 'MB')} | ours / scikit-learn: ${
        ours ? `${(ours.seconds / reference.seconds).toFixed(2)} time, ${memory!.toFixed(2)} memory` : NEEDS_SUPPORT
      } | memory < 1x${memory === null ? '' : verdict(memory < 1)} |`,
    );
  }
  return { results: { rows: options.rows, files: options.files, supported, ingestion, training }, lines, skipped };
}
