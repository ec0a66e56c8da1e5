/**
 * The dashboard's data, built on the report worker thread (report-worker.ts
 * imports this module on the first dashboard job, so the server thread never
 * loads vega): the run history, read incrementally (a tick appends one line;
 * only the new bytes are parsed), the versions and their models, and the
 * charts rendered to SVG with the report's renderer and font metrics.
 *
 * Everything is cached in the worker until the files it came from change.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { FILE_NAMES, deployedFile } from '../layout.js';
import { f1HistorySpec, driftDistributionSpec, type DriftBar } from '../report/charts.js';
import { driftBars, f1History } from '../report/figures.js';
import type { TextMeasurer } from '../report/fonts.js';
import type { renderChart as RenderChart } from '../report/render.js';
import { currentVersion, listVersions, readSwitchLog, versionFolder, type VersionRecord } from '../store/deploy-store.js';
import type { FeatureDrift, Outcome, RunRecord } from '../store/run-history.js';
import { psiHistorySpec, timelineSpec } from './dashboard-charts.js';
import {
  driftRows,
  newestDriftCheck,
  psiHistory,
  statusView,
  ticksPage,
  timelineBins,
  versionRows,
  type Coefficients,
  type FeatureDriftRow,
  type ServedSummary,
  type StatusView,
  type TicksPage,
  type VersionRow,
} from './views.js';

/** A chart as the page shows it: SVG text, its size, and words for those who cannot see it. */
export interface DashboardChart {
  svg: string;
  width: number;
  height: number;
  alt: string;
}

/** Where the dashboard reads from, and the settings it shows. */
export interface DashboardSources {
  store: string;
  schedule: { expression: string; period_seconds: number | null };
  psiThreshold: number;
}

/** The requests the worker answers. */
export type DashboardRequest =
  | { view: 'status'; sources: DashboardSources }
  | { view: 'ticks'; sources: DashboardSources; outcome: Outcome | null; offset: number; limit: number }
  | { view: 'timeline'; sources: DashboardSources }
  | { view: 'versions'; sources: DashboardSources }
  | { view: 'drift'; sources: DashboardSources };

/** The timeline answer. */
export interface TimelineAnswer {
  ticks: number;
  chart: DashboardChart | null;
}

/** The versions answer. */
export interface VersionsAnswer {
  current: number | null;
  versions: VersionRow[];
  f1_chart: DashboardChart | null;
}

/** The drift answer: the newest check's features (charts for the drifted and the largest PSI), the PSI history. */
export interface DriftAnswer {
  threshold: number;
  newest: { run_id: string; started_at: string; outcome: Outcome; features: (FeatureDriftRow & { chart: DashboardChart | null })[] } | null;
  psi_chart: DashboardChart | null;
  checks: number;
}

/** Drift checks the PSI chart spans (the newest; older ones are in the run history), and the features it draws. */
const PSI_CHECKS = 60;
const PSI_FEATURES = 10;
/** Ticks the F1 chart spans (the newest). */
const F1_TICKS = 1000;
/** Time bins of the timeline (its marks stay bounded for any history length). */
const TIMELINE_BINS = 120;
/** Distribution charts drawn besides those of drifted features: the largest PSI first. */
const UNDRIFTED_CHARTS = 6;

// ---------------------------------------------------------------- the run history, read incrementally

let history: { file: string; dev: number; ino: number; bytes: number; head: string; runs: RunRecord[] } | undefined;

/** The two keys every view reads of every tick, found without parsing the line (records are written by JSON.stringify). */
const OUTCOME_KEY = /"outcome":"([a-z-]+)"/;
const STARTED_KEY = /"started_at":"([^"]*)"/;

/**
 * A tick of the history whose line is parsed on first use of any key but its
 * outcome and start: the status and the timeline read those of every tick,
 * and most bytes of a long history are the drift records of a few ticks.
 */
class LazyRun {
  private full: RunRecord | undefined;
  constructor(
    private readonly line: string,
    readonly outcome: Outcome,
    readonly started_at: string,
  ) {}

  /** The whole record (an unreadable line gives an empty one: readRuns skips it and logs it for the report). */
  record(): RunRecord {
    if (!this.full) {
      try {
        this.full = JSON.parse(this.line) as RunRecord;
      } catch {
        this.full = { outcome: this.outcome, started_at: this.started_at } as RunRecord;
      }
    }
    return this.full;
  }
}
for (const key of [
  'run_id',
  'finished_at',
  'duration_ms',
  'config_file',
  'new_files',
  'scores',
  'model_drift',
  'data_drift',
  'decision',
  'version_before',
  'version_after',
  'durations',
  'error',
  'notes',
  'refreshed',
] as const)
  Object.defineProperty(LazyRun.prototype, key, {
    get(this: LazyRun) {
      return this.record()[key];
    },
  });

/** Adds the complete lines of `text`; a line that is no run record is left out (as readRuns does). */
function parseLines(text: string, into: RunRecord[]): void {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) continue;
    const outcome = OUTCOME_KEY.exec(trimmed)?.[1];
    const started = STARTED_KEY.exec(trimmed)?.[1];
    if (outcome !== undefined && started !== undefined) {
      into.push(new LazyRun(trimmed, outcome as Outcome, started) as unknown as RunRecord);
      continue;
    }
    try {
      const value = JSON.parse(trimmed) as RunRecord;
      if (typeof value === 'object' && value !== null && typeof value.outcome === 'string') into.push(value);
    } catch {
      // A torn or corrupt line: readRuns logs it for the report; here it is only left out.
    }
  }
}

/**
 * The run history, oldest first. While the file only grows (same inode, same
 * first bytes), only the appended complete lines are parsed.
 */
export function readHistory(store: string): RunRecord[] {
  const file = path.join(store, FILE_NAMES.runHistory);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      history = undefined;
      return [];
    }
    throw error;
  }
  try {
    const stat = fs.fstatSync(fd);
    const headBuffer = Buffer.alloc(Math.min(64, stat.size));
    fs.readSync(fd, headBuffer, 0, headBuffer.length, 0);
    const head = headBuffer.toString('latin1');
    const same = history && history.file === file && history.dev === stat.dev && history.ino === stat.ino && history.head === head;
    if (!same || stat.size < history!.bytes) history = { file, dev: stat.dev, ino: stat.ino, bytes: 0, head, runs: [] };
    const cached = history!;
    if (stat.size > cached.bytes) {
      const fresh = Buffer.alloc(stat.size - cached.bytes);
      const read = fs.readSync(fd, fresh, 0, fresh.length, cached.bytes);
      // Only complete lines: a line being written is read on the next request.
      const end = fresh.subarray(0, read).lastIndexOf(0x0a) + 1;
      if (end > 0) {
        parseLines(fresh.subarray(0, end).toString('utf8'), cached.runs);
        cached.bytes += end;
      }
    }
    return cached.runs;
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------- versions and models

const coefficientCache = new Map<string, Coefficients | null>();

/** A version's coefficients by feature name (and the intercept), read once per version folder. */
function versionCoefficients(store: string, version: number): Coefficients | null {
  const file = deployedFile(versionFolder(store, version), FILE_NAMES.model);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  const key = `${file}:${stat?.ino}:${stat?.mtimeMs}`;
  if (!coefficientCache.has(key)) {
    let value: Coefficients | null;
    try {
      const model = JSON.parse(fs.readFileSync(file, 'utf8')) as { features?: unknown; coefficients?: unknown; intercept?: unknown };
      const coefficients = Array.isArray(model.coefficients) ? (model.coefficients as number[]) : [];
      // One-hot models may name their columns themselves; otherwise the features name the coefficients in order.
      const named = model as { coefficient_names?: unknown };
      const names = Array.isArray(named.coefficient_names)
        ? (named.coefficient_names as string[])
        : Array.isArray(model.features)
          ? (model.features as string[])
          : [];
      value = Object.fromEntries(coefficients.map((c, i) => [names[i] ?? `coefficient ${i + 1}`, c]));
      if (typeof model.intercept === 'number') value['(intercept)'] = model.intercept;
    } catch {
      value = null;
    }
    coefficientCache.set(key, value);
  }
  return coefficientCache.get(key) ?? null;
}

/** The served version and since when it is current (its switch in the switch log, else its deployment). */
function servedSummary(store: string, versions: VersionRecord[]): ServedSummary | null {
  const version = currentVersion(store);
  if (version === null) return null;
  const record = versions.find((v) => v.version === version);
  const switched = readSwitchLog(store)
    .reverse()
    .find((entry) => entry.version === version);
  return { version, since: switched?.time ?? record?.deployed_at ?? null, test_f1: record?.f1 ?? null };
}

// ---------------------------------------------------------------- charts

let renderer: { render: typeof RenderChart; measure: TextMeasurer } | undefined;

/**
 * Renders a spec with the report's renderer and font metrics. vega, pdfkit and
 * the fonts load on the first chart, so the status and the ticks (the first
 * paint) never wait for them.
 */
async function chart(spec: TopLevelSpec, alt: string): Promise<DashboardChart> {
  if (!renderer) {
    const [{ renderChart }, { characterMeasurer, loadFonts }, { createPdfDocument }] = await Promise.all([
      import('../report/render.js'),
      import('../report/fonts.js'),
      import('../report/pdf.js'),
    ]);
    renderer = { render: renderChart, measure: characterMeasurer(createPdfDocument(loadFonts())) };
  }
  const rendered = await renderer.render(spec, renderer.measure);
  return { svg: rendered.svg, width: rendered.width, height: rendered.height, alt };
}

/** Bars of a feature's drift chart: bins named by their edges, or by the levels of a categorical feature. */
function barsOf(bins: FeatureDrift['psi_bins']): DriftBar[] {
  const levels = (bins as { levels?: unknown }).levels;
  if (!Array.isArray(levels)) return driftBars(bins);
  // The training levels, then null (or nothing) for the bin of levels unseen in training; '' is the level of empty cells.
  const names = (k: number): string => {
    const level: unknown = levels[k];
    if (level === null || level === undefined) return 'unseen levels';
    return level === '' ? '(empty)' : typeof level === 'string' ? level : JSON.stringify(level);
  };
  return bins.expected.flatMap((expected, k): DriftBar[] => [
    { bin: names(k), order: k, data: 'training', share: expected },
    { bin: names(k), order: k, data: 'new data', share: bins.actual[k] ?? 0 },
  ]);
}

function share(value: number): string {
  return `${Math.round(100 * value)}%`;
}

/** Words for a drift chart: the bin whose share changed most. */
function driftAlt(feature: string, bars: DriftBar[], row: FeatureDriftRow): string {
  let most: { bin: string; training: number; fresh: number } | null = null;
  for (let i = 0; i + 1 < bars.length; i += 2) {
    const candidate = { bin: bars[i].bin, training: bars[i].share, fresh: bars[i + 1].share };
    if (!most || Math.abs(candidate.fresh - candidate.training) > Math.abs(most.fresh - most.training)) most = candidate;
  }
  const verdict = row.drifted ? 'drifted' : 'not drifted';
  const change = most
    ? `; largest change in ${most.bin}: ${share(most.fresh)} of new rows against ${share(most.training)} of training rows`
    : '';
  return `Training (blue) against new data (red) per bin of ${feature}: ${verdict}, PSI ${row.psi?.toFixed(2) ?? 'n/a'}${change}`;
}

// ---------------------------------------------------------------- the views

async function timeline(sources: DashboardSources): Promise<TimelineAnswer> {
  const runs = readHistory(sources.store);
  const { bins, from, to } = timelineBins(runs, TIMELINE_BINS);
  if (bins.length === 0) return { ticks: 0, chart: null };
  const counts = new Map<string, number>();
  for (const bin of bins) counts.set(bin.outcome, (counts.get(bin.outcome) ?? 0) + bin.count);
  const alt =
    `Timeline of ${runs.length} ticks from ${new Date(from).toISOString()} to ${runs.at(-1)!.started_at}: ` +
    [...counts].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
  return { ticks: runs.length, chart: await chart(timelineSpec(bins, from, to), alt) };
}

async function versions(sources: DashboardSources): Promise<VersionsAnswer> {
  const runs = readHistory(sources.store);
  const records = listVersions(sources.store);
  const current = currentVersion(sources.store);
  const coefficients = new Map<number, Coefficients>();
  for (const record of records) {
    const value = versionCoefficients(sources.store, record.version);
    if (value) coefficients.set(record.version, value);
  }
  const rows = versionRows(records, current, runs, coefficients);
  const history = f1History(runs, records, F1_TICKS);
  const subtitle = `${history.deployments} deployments, ${history.checks} drift checks${history.rejected ? `, ${history.rejected} rejected candidates` : ''}`;
  const alt =
    'F1 per model version over time: ' +
    rows
      .slice()
      .reverse()
      .map((row) => `version ${row.version} test F1 ${row.test_f1?.toFixed(4) ?? 'n/a'}, ${row.checks.count} drift checks`)
      .join('; ');
  const f1Chart =
    history.points.length > 0 ? await chart(f1HistorySpec(history.points, [subtitle], { width: 900, height: 280 }), alt) : null;
  return { current, versions: rows, f1_chart: f1Chart };
}

async function drift(sources: DashboardSources): Promise<DriftAnswer> {
  const runs = readHistory(sources.store);
  const newest = newestDriftCheck(runs);
  const psi = psiHistory(runs, PSI_CHECKS, PSI_FEATURES);
  const drawn =
    psi.of > psi.features.length ? `the ${psi.features.length} of ${psi.of} features with the highest PSI` : `${psi.of} features`;
  const psiSubtitle = `${drawn}, ${psi.checks === 1 ? 'one check' : `newest ${psi.checks} checks`}; dashed: the threshold ${sources.psiThreshold}`;
  const psiAlt =
    `PSI per feature at the newest ${psi.checks} drift checks (${drawn}), against the threshold ${sources.psiThreshold}; newest: ` +
    (newest
      ? driftRows(newest.data_drift!)
          .map((row) => `${row.feature} ${row.psi?.toFixed(2) ?? 'n/a'}`)
          .join(', ')
      : 'none');
  const psiChart = psi.points.length > 0 ? await chart(psiHistorySpec(psi.points, sources.psiThreshold, psiSubtitle), psiAlt) : null;
  if (!newest) return { threshold: sources.psiThreshold, newest: null, psi_chart: psiChart, checks: psi.checks };
  const rows = driftRows(newest.data_drift!);
  let undrifted = 0;
  const features = [];
  for (const row of rows) {
    const record = newest.data_drift![row.feature];
    let rendered: DashboardChart | null = null;
    if (row.bins > 0 && (row.drifted || undrifted++ < UNDRIFTED_CHARTS)) {
      const bars = barsOf(record.psi_bins);
      const width = Math.max(220, 60 + 16 * row.bins);
      const subtitle = `PSI ${row.psi?.toFixed(2) ?? 'n/a'}${row.test ? ` · ${row.test} p ${row.p_value?.toPrecision(2) ?? 'n/a'}` : ''} · ${row.drifted ? 'drifted' : 'not drifted'}`;
      const title = row.feature.length > 60 ? `${row.feature.slice(0, 59)}…` : row.feature;
      rendered = await chart(driftDistributionSpec(bars, title, [subtitle], { width, height: 190 }), driftAlt(title, bars, row));
    }
    features.push({ ...row, chart: rendered });
  }
  return {
    threshold: sources.psiThreshold,
    newest: { run_id: newest.run_id, started_at: newest.started_at, outcome: newest.outcome, features },
    psi_chart: psiChart,
    checks: psi.checks,
  };
}

/** Answers one dashboard request (on the report worker). */
export async function answerDashboard(
  request: DashboardRequest,
): Promise<StatusView | TicksPage | TimelineAnswer | VersionsAnswer | DriftAnswer> {
  const { sources } = request;
  switch (request.view) {
    case 'status': {
      const runs = readHistory(sources.store);
      return statusView(runs, servedSummary(sources.store, listVersions(sources.store)), sources.schedule, Date.now());
    }
    case 'ticks':
      return ticksPage(readHistory(sources.store), request.outcome, request.offset, request.limit);
    case 'timeline':
      return timeline(sources);
    case 'versions':
      return versions(sources);
    case 'drift':
      return drift(sources);
  }
}
