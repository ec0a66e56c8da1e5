/**
 * What the dashboard shows, derived from plain data: the status strip, a page
 * of ticks, the versions with their checks, gate figures and coefficient
 * changes, and the newest drift check. Pure: the run history, the version
 * records and the models arrive as arguments (dashboard-data.ts reads them on
 * the report worker); charts are made elsewhere (dashboard-charts.ts).
 */
import type { FeatureDrift, Outcome, RunRecord } from '../store/run-history.js';
import type { VersionRecord } from '../store/deploy-store.js';
import { checkFigures, summarizeHealth, type Health } from '../report/health.js';

/** Every outcome a tick can have, in the order the dashboard lists them. */
export const OUTCOMES: readonly Outcome[] = ['bootstrapped', 'redeployed', 'no-drift', 'no-new-data', 'rejected', 'locked', 'failed'];

/** File names shown per tick (the count says how many there were). */
const SHOWN_FILES = 5;

/** One row of the ticks table. */
export interface TickRow {
  run_id: string;
  started_at: string;
  duration_ms: number;
  outcome: Outcome;
  decision: string;
  new_files: string[];
  new_file_count: number;
  version_before: number | null;
  version_after: number | null;
  error: string | null;
}

/** A tick as a table row. */
export function tickRow(run: RunRecord): TickRow {
  const files = Array.isArray(run.new_files) ? run.new_files : [];
  return {
    run_id: String(run.run_id),
    started_at: String(run.started_at),
    duration_ms: Number.isFinite(run.duration_ms) ? run.duration_ms : 0,
    outcome: run.outcome,
    decision: typeof run.decision === 'string' ? run.decision : '',
    new_files: files.slice(0, SHOWN_FILES).map((file) => String(file.name)),
    new_file_count: files.length,
    version_before: run.version_before ?? null,
    version_after: run.version_after ?? null,
    error: run.error ?? null,
  };
}

/** A warning of the status strip. */
export interface Warning {
  kind: 'undeployed' | 'failed' | 'rejected' | 'overdue';
  text: string;
}

/** The served model as the status strip names it. */
export interface ServedSummary {
  version: number;
  /** When it became current (its deployment or the rollback to it). */
  since: string | null;
  test_f1: number | null;
}

/** The status strip. */
export interface StatusView {
  health: Health;
  /** One line: how the model is doing. */
  headline: string;
  served: ServedSummary | null;
  newest_tick: TickRow | null;
  /** The newest tick that ingested new data or failed (the one that decides the health). */
  decisive_tick: TickRow | null;
  warnings: Warning[];
  schedule: { expression: string; period_seconds: number | null };
  ticks: { total: number; by_outcome: Record<Outcome, number> };
}

/** An instant as `YYYY-MM-DD HH:MM:SS UTC` (the text as it is when it is not a time). */
export function formatUtc(iso: string | null | undefined): string {
  const time = Date.parse(iso ?? '');
  return Number.isFinite(time) ? new Date(time).toISOString().slice(0, 19).replace('T', ' ') + ' UTC' : String(iso);
}

/** Ticks count as overdue after this many schedule periods without one. */
export const OVERDUE_PERIODS = 3;

/** A duration in words ("4 min", "2 h 5 min", "3 days"). */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  return `${Math.round(hours / 24)} days`;
}

/** The warning for a newest tick older than OVERDUE_PERIODS periods at `now`; null when on time or unknowable. */
export function overdueWarning(newest: { started_at: string } | null, periodSeconds: number | null, now: number): Warning | null {
  if (!newest || periodSeconds === null) return null;
  const age = (now - Date.parse(newest.started_at)) / 1000;
  if (!(age > OVERDUE_PERIODS * periodSeconds)) return null;
  return {
    kind: 'overdue',
    text: `Ticks are overdue: the newest started ${formatAge(age)} ago, the schedule runs one every ${formatAge(periodSeconds)} (is cron or npm run schedule running?)`,
  };
}

const HEADLINES: Record<Health, string> = {
  healthy: 'Healthy: the newest check found no reason to retrain',
  retrained: 'Drift found and retrained: a new version was deployed',
  rejected: 'Drift found, but the retrained candidate was rejected',
  failing: 'Failing: the newest tick failed',
  unchecked: 'Deployed, not yet checked by a tick',
  undeployed: 'Nothing is deployed',
};

/** The status strip from the run history and the served model, at `now`. */
export function statusView(
  runs: RunRecord[],
  served: ServedSummary | null,
  schedule: { expression: string; period_seconds: number | null },
  now: number,
): StatusView {
  const summary = summarizeHealth(runs, served !== null);
  const newest = runs.at(-1) ?? null;
  const decisive = summary.newest;
  const warnings: Warning[] = [];
  if (!served)
    warnings.push({ kind: 'undeployed', text: 'Nothing is deployed: no model serves predictions (npm run fullprocess bootstraps one)' });
  if (decisive?.outcome === 'failed')
    warnings.push({
      kind: 'failed',
      text: `The newest tick that had work failed (${formatUtc(decisive.started_at)}): ${decisive.error ?? decisive.decision}`,
    });
  if (decisive?.outcome === 'rejected')
    warnings.push({
      kind: 'rejected',
      text: `Drift was found but the candidate was rejected (${formatUtc(decisive.started_at)}): version ${decisive.version_after ?? '?'} still serves`,
    });
  const overdue = overdueWarning(newest, schedule.period_seconds, now);
  if (overdue) warnings.push(overdue);
  const byOutcome = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<Outcome, number>;
  for (const run of runs) if (run.outcome in byOutcome) byOutcome[run.outcome]++;
  return {
    health: summary.health,
    headline: HEADLINES[summary.health],
    served,
    newest_tick: newest ? tickRow(newest) : null,
    decisive_tick: decisive ? tickRow(decisive) : null,
    warnings,
    schedule,
    ticks: { total: runs.length, by_outcome: byOutcome },
  };
}

/** A page of the ticks table, newest first. */
export interface TicksPage {
  total: number;
  offset: number;
  limit: number;
  outcome: Outcome | null;
  rows: TickRow[];
}

/** The ticks of `outcome` (all when null), newest first, `limit` of them from `offset`. */
export function ticksPage(runs: RunRecord[], outcome: Outcome | null, offset: number, limit: number): TicksPage {
  const rows: TickRow[] = [];
  let total = 0;
  for (let i = runs.length - 1; i >= 0; i--) {
    if (outcome !== null && runs[i].outcome !== outcome) continue;
    if (total >= offset && rows.length < limit) rows.push(tickRow(runs[i]));
    total++;
  }
  return { total, offset, limit, outcome, rows };
}

/** A drift check while a version was deployed: the deployed model's F1 on the new data. */
export interface VersionCheck {
  started_at: string;
  new_f1: number;
  drifted: boolean;
}

/** One coefficient of a version against the previous version. */
export interface CoefficientChange {
  feature: string;
  coefficient: number;
  previous: number | null;
  change: number | null;
}

/** A model's coefficients by name (the intercept included), as read from its model file. */
export type Coefficients = Record<string, number>;

/** A version row of the versions table. */
export interface VersionRow {
  version: number;
  current: boolean;
  deployed_at: string;
  origin: string;
  test_f1: number | null;
  trained_rows: number | null;
  /** The gate's figures when a tick deployed it: the candidate's and the then-deployed model's test F1. */
  gate: { candidate_f1: number; deployed_f1: number | null; text: string } | null;
  checks: { count: number; newest: VersionCheck[] };
  /** Every coefficient, the largest change against the previous version first (null: no previous version). */
  coefficients: CoefficientChange[];
  compared_with: number | null;
  rollback_command: string | null;
}

/** Drift checks shown per version (the count says how many there were). */
const SHOWN_CHECKS = 8;

/** The command that makes `version` current again. */
export function rollbackCommand(version: number): string {
  return `npm run deployment -- --rollback ${version}`;
}

/** Coefficient changes of a model against the previous one, largest change first (new coefficients after). */
export function coefficientChanges(current: Coefficients | null, previous: Coefficients | null): CoefficientChange[] {
  if (!current) return [];
  const rows = Object.entries(current).map(([feature, coefficient]): CoefficientChange => {
    const before = previous && feature in previous ? previous[feature] : null;
    return { feature, coefficient, previous: before, change: before === null ? null : coefficient - before };
  });
  return rows.sort((a, b) => (b.change === null ? -1 : Math.abs(b.change)) - (a.change === null ? -1 : Math.abs(a.change)));
}

/** Every version on disk, newest first, with what the run history says about it. */
export function versionRows(
  versions: VersionRecord[],
  current: number | null,
  runs: RunRecord[],
  coefficients: ReadonlyMap<number, Coefficients>,
): VersionRow[] {
  const deployedBy = new Map<number, RunRecord>();
  const checks = new Map<number, VersionCheck[]>();
  for (const run of runs) {
    if ((run.outcome === 'redeployed' || run.outcome === 'bootstrapped') && run.version_after !== null)
      deployedBy.set(run.version_after, run);
    const figures = checkFigures(run);
    if (figures && run.version_before !== null && Number.isFinite(figures.newF1)) {
      const list = checks.get(run.version_before) ?? [];
      list.push({ started_at: run.started_at, new_f1: figures.newF1, drifted: figures.drifted });
      checks.set(run.version_before, list);
    }
  }
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  return sorted
    .map((record, index): VersionRow => {
      const previous = index > 0 ? sorted[index - 1].version : null;
      const run = deployedBy.get(record.version);
      const candidate = run?.scores?.candidate_f1;
      const deployed = run?.outcome === 'redeployed' ? (run.scores?.deployed_f1 ?? null) : null;
      const gate =
        typeof candidate === 'number'
          ? {
              candidate_f1: candidate,
              deployed_f1: deployed,
              text:
                run?.outcome === 'bootstrapped'
                  ? `bootstrapped: test F1 ${candidate.toFixed(4)}, nothing to compare with`
                  : `candidate test F1 ${candidate.toFixed(4)} vs deployed ${deployed === null ? 'n/a' : deployed.toFixed(4)}`,
            }
          : null;
      const versionChecks = checks.get(record.version) ?? [];
      return {
        version: record.version,
        current: record.version === current,
        deployed_at: record.deployed_at,
        origin: record.origin,
        test_f1: record.f1,
        trained_rows: record.data?.rows ?? null,
        gate,
        checks: { count: versionChecks.length, newest: versionChecks.slice(-SHOWN_CHECKS).reverse() },
        coefficients: coefficientChanges(
          coefficients.get(record.version) ?? null,
          previous === null ? null : (coefficients.get(previous) ?? null),
        ),
        compared_with: previous,
        rollback_command: record.version === current ? null : rollbackCommand(record.version),
      };
    })
    .reverse();
}

/** One feature of a drift check, whatever its kind (numeric: KS test; categorical: chi-square). */
export interface FeatureDriftRow {
  feature: string;
  psi: number | null;
  /** The p-value of the feature's test, and the test's name. */
  p_value: number | null;
  test: string | null;
  drifted: boolean;
  bins: number;
}

/** A feature's test p-value from its drift record: the KS test, or any other `<test>_pvalue` key (chi-square on levels). */
export function driftTest(drift: FeatureDrift): { test: string | null; p_value: number | null } {
  const record = drift as unknown as Record<string, unknown>;
  if (typeof record.ks_pvalue === 'number') return { test: 'KS', p_value: record.ks_pvalue };
  const key = Object.keys(record).find((name) => name.endsWith('pvalue') && typeof record[name] === 'number');
  if (!key) return { test: null, p_value: null };
  const name = key.replace(/_?pvalue$/, '');
  return { test: name === 'chi2' || name === 'chi_square' ? 'chi-square' : name || 'test', p_value: record[key] as number };
}

/** The newest tick that measured data drift; null without one. */
export function newestDriftCheck(runs: RunRecord[]): RunRecord | null {
  for (let i = runs.length - 1; i >= 0; i--) {
    const drift = runs[i].data_drift;
    if (drift && typeof drift === 'object' && Object.keys(drift).length > 0) return runs[i];
  }
  return null;
}

/** The features of a drift record, drifted first, then the largest PSI. */
export function driftRows(drift: Record<string, FeatureDrift>): FeatureDriftRow[] {
  return Object.entries(drift)
    .map(([feature, d]): FeatureDriftRow => {
      const psi = typeof d.psi === 'number' && Number.isFinite(d.psi) ? d.psi : null;
      return { feature, psi, ...driftTest(d), drifted: d.drifted === true, bins: d.psi_bins?.expected?.length ?? 0 };
    })
    .sort((a, b) => Number(b.drifted) - Number(a.drifted) || (b.psi ?? -1) - (a.psi ?? -1) || a.feature.localeCompare(b.feature));
}

/** One point of the PSI history: a feature's PSI at a drift check. */
export interface PsiPoint {
  time: string;
  feature: string;
  psi: number;
}

/**
 * PSI per feature over the newest `maxChecks` drift checks, oldest first, for
 * the `maxFeatures` features with the highest PSI in that window (a chart of
 * thirty lines reads as none); `of` counts all features seen.
 */
export function psiHistory(
  runs: RunRecord[],
  maxChecks: number,
  maxFeatures = Infinity,
): { points: PsiPoint[]; checks: number; features: string[]; of: number } {
  const picked: RunRecord[] = [];
  for (let i = runs.length - 1; i >= 0 && picked.length < maxChecks; i--) {
    const drift = runs[i].data_drift;
    if (drift && typeof drift === 'object' && Object.keys(drift).length > 0) picked.push(runs[i]);
  }
  picked.reverse();
  const all: PsiPoint[] = [];
  const highest = new Map<string, number>();
  for (const run of picked)
    for (const [feature, d] of Object.entries(run.data_drift!)) {
      if (typeof d.psi !== 'number' || !Number.isFinite(d.psi)) continue;
      highest.set(feature, Math.max(highest.get(feature) ?? 0, d.psi));
      all.push({ time: run.started_at, feature, psi: d.psi });
    }
  const features = [...highest]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, maxFeatures)
    .map(([feature]) => feature);
  const shown = new Set(features);
  return { points: all.filter((p) => shown.has(p.feature)), checks: picked.length, features, of: highest.size };
}

/** Ticks per time bin and outcome, for the timeline. */
export interface TimelineBin {
  start: string;
  end: string;
  outcome: Outcome;
  count: number;
}

/**
 * The run history cut into at most `bins` equal time bins, counted per
 * outcome: a history of any length draws as a bounded number of marks.
 */
export function timelineBins(runs: RunRecord[], bins: number): { bins: TimelineBin[]; from: number; to: number } {
  const times = runs.map((run) => Date.parse(run.started_at)).filter(Number.isFinite);
  if (times.length === 0) return { bins: [], from: 0, to: 0 };
  let from = Infinity;
  let to = -Infinity;
  for (const time of times) {
    if (time < from) from = time;
    if (time > to) to = time;
  }
  // A second at least, so a single tick has a bin of its own width.
  const width = Math.max(1000, (to - from) / bins);
  const counts = new Map<string, number>();
  for (const run of runs) {
    const time = Date.parse(run.started_at);
    if (!Number.isFinite(time)) continue;
    const index = Math.min(bins - 1, Math.floor((time - from) / width));
    const key = `${index}|${run.outcome}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const out: TimelineBin[] = [];
  for (const [key, count] of counts) {
    const [index, outcome] = key.split('|');
    const start = from + Number(index) * width;
    out.push({ start: new Date(start).toISOString(), end: new Date(start + width).toISOString(), outcome: outcome as Outcome, count });
  }
  out.sort((a, b) => a.start.localeCompare(b.start));
  // Half a minute on each side at least, so a short history does not fill the axis with one bar.
  const pad = Math.max(30_000, 0.02 * (to - from));
  return { bins: out, from: from - pad, to: to + width + pad };
}
