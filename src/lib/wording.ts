/**
 * The words and number formats every reader of the system sees (the report,
 * the risk list, tick and drift decisions, the dashboard): one home, so a
 * figure reads the same everywhere. Pure.
 */
import type { RunRecord } from './store/run-history.js';

const TIME_UNITS = 'day|week|month|quarter|year';

const TIME_COMPOUND = new RegExp(`^(last|next|this|previous|prev|past)(${TIME_UNITS})s?$`);

/**
 * A column name as words: separators and camelCase become spaces, a glued
 * time phrase gets its hyphen ("lastmonth" -> "last-month").
 * @example featureLabel('lastmonth_activity') === 'last-month activity'
 * @example featureLabel('numberOfEmployees') === 'number of employees'
 */
export function featureLabel(name: string): string {
  const words = name
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_\-.]+/)
    .filter((word) => word !== '')
    .map((word) => (/^[A-Z\d]+$/.test(word) && word.length > 1 ? word : word.toLowerCase()))
    .map((word) => word.replace(TIME_COMPOUND, '$1-$2'));
  return words.length > 0 ? words.join(' ') : name;
}

/** A feature value for a sentence: whole numbers from 100 up, else three significant digits. */
export function formatAmount(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100 || Number.isInteger(value)) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(3)));
}

/** A score in a decision sentence (tick and drift records): 4 decimals, or as JavaScript spells a non-finite value ("NaN"). */
export function formatScore(value: number): string {
  return Number.isFinite(value) ? value.toFixed(4) : String(value);
}

/** A metric with 4 decimals; "n/a" for null (ROC AUC with a single class). */
export function formatMetric(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(4);
}

/** An instant as `YYYY-MM-DD HH:MM:SS UTC`; "unknown" when absent or unparsable. */
export function formatTime(value: string | Date | null | undefined): string {
  if (value === null || value === undefined) return 'unknown';
  const time = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(time.getTime())) return 'unknown';
  return time.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

/** An integer with thousands separators. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A share as a percentage with one decimal ("35.3%"). */
export function formatPercent(share: number | null): string {
  return share === null || !Number.isFinite(share) ? 'n/a' : `${(100 * share).toFixed(1)}%`;
}

/** A statistic: integers as they are, else 2 decimals from 100 up and 4 below; "–" for null. */
export function formatStat(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100 ? value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : value.toFixed(4);
}

/** A coefficient with its sign and 2 decimals ("+0.10", "−2.17", "0.00"). */
export function formatSigned(value: number): string {
  const rounded = Number(value.toFixed(2));
  return rounded === 0 ? '0.00' : (rounded < 0 ? '−' : '+') + Math.abs(rounded).toFixed(2);
}

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${formatCount(count)} ${count === 1 ? word : many}`;
}

/** A p-value: 4 decimals, or one significant digit in exponent form when tiny. */
export function formatPValue(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value < 1e-4 ? value.toExponential(1) : value.toFixed(4);
}

export function outcomeWords(run: RunRecord): string {
  switch (run.outcome) {
    case 'bootstrapped':
      return `bootstrapped version ${run.version_after ?? '?'}`;
    case 'redeployed':
      return `drift found, deployed version ${run.version_after ?? '?'}`;
    case 'rejected':
      return 'drift found, candidate rejected';
    case 'no-drift':
      return 'no drift';
    case 'failed':
      return 'failed';
    default:
      return run.outcome;
  }
}

/** How the rule drew its line, in words. */
export function ruleWords(run: RunRecord): string {
  const drift = run.model_drift;
  if (!drift) return 'rule not recorded';
  const earlier = plural(drift.history.length, 'earlier score');
  if (drift.explanation.includes('raw rule applied') || drift.rule === 'raw') return 'raw rule: any drop counts as drift';
  if (drift.rule === 'parametric') return `parametric rule: below ${formatMetric(drift.threshold)} = mean − 2 std of ${earlier}`;
  return `nonparametric rule: below ${formatMetric(drift.threshold)} = Q1 − 1.5 IQR of ${earlier}`;
}
