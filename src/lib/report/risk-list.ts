/**
 * The risk list: the clients still with us, riskiest first, each with its
 * probability of leaving and the reasons. The report, the risk-scores CSV and
 * `GET /risk` all take their list from here.
 *
 * - A client is an id of the schema's id column. Its current state is its
 *   newest row: the last one in the dataset, since the final data keeps the
 *   order of the files (by name) and of their rows.
 * - An id whose newest row has target 1 has left and is never listed; a row
 *   with an empty id names no client and is only counted.
 * - The reasons are the terms of the log-odds: for feature i,
 *   coefficient[i] x z[i] with z the standardized value (missing cells
 *   imputed with the training median first, as predictProbabilities does).
 *   A categorical feature's term is its level's coefficient minus the
 *   training-share-weighted mean of that feature's level coefficients (a
 *   level unseen in training has coefficient 0), so a level as common as
 *   the training data's mix contributes 0, as a numeric value at its training
 *   mean does. Those means are added to the intercept: the intercept so
 *   adjusted plus all terms is the client's log-odds.
 *
 * Pure: the dataset and the model arrive as arguments. Building the list is
 * linear in the rows (plus the sort); reasons are computed per client on
 * demand, so a million-row list does not hold a million reason arrays.
 */
import type { DataSchema } from '../config.js';
import { formatCsvRecord } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
import type { CategoryColumn } from '../data/levels.js';
import type { CategoricalFit } from '../model/fit.js';
import { predictProbabilities, type ModelFile } from '../model/model-file.js';
import { featureLabel, formatAmount } from '../wording.js';

/** One client on the list. */
export interface RiskClient {
  id: string;
  /** Index of the client's newest row in the dataset (0-based, header excluded). */
  row: number;
  probability: number;
}

/** One feature's term of a client's log-odds. */
export interface Contribution {
  feature: string;
  /**
   * The value as read: a number, or null for an empty numeric cell (imputed
   * with the training median); for a categorical feature its level as text.
   */
  value: number | string | null;
  /** Standardized value the coefficient multiplies (the raw value for a model without standardization); for a level 1, or 0 when unseen in training. */
  z: number;
  contribution: number;
  /** Present for a categorical feature. */
  categorical?: true;
}

/** A client's log-odds taken apart: intercept + Σ contributions = logOdds. */
export interface Explanation {
  /** The model's intercept plus, per categorical feature, the training-share-weighted mean of its level coefficients. */
  intercept: number;
  logOdds: number;
  /** Every feature, largest contribution first. */
  contributions: Contribution[];
}

/** The list and what it was made from. */
export interface RiskList {
  idColumn: string;
  features: string[];
  /** Clients still with us, riskiest first (ties: the earlier newest row first). */
  clients: RiskClient[];
  /** Rows of the dataset. */
  rows: number;
  /** Distinct non-empty ids. */
  ids: number;
  /** Ids whose newest row has target 1: they have left and are not listed. */
  left: number;
  /** Rows with an empty id. */
  unidentified: number;
  /** Takes a listed client's log-odds apart. */
  explain(client: RiskClient): Explanation;
}

/**
 * Builds the list from a labelled dataset read with the model's features
 * (schemaForModel). Throws a TypeError for unlabelled data: without the
 * target nobody can be told to have left.
 */
export function buildRiskList(data: Dataset, schema: Pick<DataSchema, 'id_column'>, model: ModelFile): RiskList {
  const target = data.target;
  if (!target) throw new TypeError('buildRiskList: the dataset has no target column');
  if (data.features.length !== model.features.length || data.features.some((f, i) => f !== model.features[i]))
    throw new TypeError('buildRiskList: the dataset was not read with the model features');
  const newest = new Map<string, number>();
  let unidentified = 0;
  for (let row = 0; row < data.rows; row++) {
    const id = data.ids[row];
    if (id === '' || id === undefined) unidentified++;
    else newest.set(id, row);
  }
  const probabilities = predictProbabilities(model, data.columns, data.categories);
  const clients: RiskClient[] = [];
  let left = 0;
  for (const [id, row] of newest) {
    if (target[row] === 1) left++;
    else clients.push({ id, row, probability: probabilities[row] });
  }
  clients.sort((a, b) => b.probability - a.probability || a.row - b.row);
  return {
    idColumn: schema.id_column,
    features: [...model.features],
    clients,
    rows: data.rows,
    ids: newest.size,
    left,
    unidentified,
    explain: (client) => explainRow(model, data.columns, client.row, data.categories),
  };
}

/** The training-share-weighted mean of a categorical feature's level coefficients: the term of a typical row. */
export function levelBaseline(entry: Pick<CategoricalFit, 'counts' | 'coefficients'>): number {
  let total = 0;
  let weighted = 0;
  entry.counts.forEach((count, k) => {
    total += count;
    weighted += count * entry.coefficients[k];
  });
  return total > 0 ? weighted / total : 0;
}

/**
 * The log-odds of row `row` of `columns` (in model feature order) and of
 * `categories` (matched by feature name; a feature without a column is the
 * empty level), term by term, largest first.
 */
export function explainRow(
  model: ModelFile,
  columns: ArrayLike<number>[],
  row: number,
  categories: readonly CategoryColumn[] = [],
): Explanation {
  const std = model.standardization;
  let intercept = model.intercept;
  let logOdds = model.intercept;
  const contributions = model.features.map((feature, f): Contribution => {
    const raw = columns[f][row];
    const missing = raw !== raw;
    const value = missing ? model.imputation[feature] : raw;
    const z = std ? (value - std.mean[f]) / std.std[f] : value;
    const contribution = model.coefficients[f] * z;
    logOdds += contribution;
    return { feature, value: missing ? null : raw, z, contribution };
  });
  for (const entry of model.categorical) {
    const column = categories.find((category) => category.feature === entry.feature);
    const level = column ? column.levels[column.codes[row]] : '';
    const k = entry.levels.indexOf(level);
    const coefficient = k === -1 ? 0 : entry.coefficients[k];
    const baseline = levelBaseline(entry);
    intercept += baseline;
    logOdds += coefficient;
    contributions.push({
      feature: entry.feature,
      value: level,
      z: k === -1 ? 0 : 1,
      contribution: coefficient - baseline,
      categorical: true,
    });
  }
  contributions.sort((a, b) => b.contribution - a.contribution);
  return { intercept, logOdds, contributions };
}

// ---------------------------------------------------------------- words for a manager

/** How far a standardized value lies from the training mean, in words. */
function distance(z: number): string {
  const size = Math.abs(z);
  const side = z < 0 ? 'below' : 'above';
  if (size < 0.25) return 'about typical';
  if (size < 0.75) return `slightly ${side} typical`;
  if (size < 1) return `${side} typical`;
  if (size < 2) return `far ${side} typical`;
  return `very far ${side} typical`;
}

/**
 * One contribution in a manager's words, e.g. "last-month activity far below
 * typical (36 vs 189)"; typical is the training mean (the training median for
 * a model without standardization, which has no scale to say "far" with).
 */
export function describeContribution(model: ModelFile, contribution: Contribution): string {
  const f = model.features.indexOf(contribution.feature);
  const label = featureLabel(contribution.feature);
  if (contribution.categorical || typeof contribution.value === 'string') return describeLevel(label, contribution);
  if (contribution.value === null)
    return `${label} not recorded (taken as the usual ${formatAmount(model.imputation[contribution.feature])})`;
  const std = model.standardization;
  if (std && f >= 0) return `${label} ${distance(contribution.z)} (${formatAmount(contribution.value)} vs ${formatAmount(std.mean[f])})`;
  const typical = model.imputation[contribution.feature];
  if (typeof contribution.value !== 'number') return label;
  const side = contribution.value < typical ? 'below typical' : contribution.value > typical ? 'above typical' : 'typical';
  return `${label} ${side} (${formatAmount(contribution.value)} vs ${formatAmount(typical)})`;
}

/** A level's term in words: "contract: month-to-month (raises the risk)". */
function describeLevel(label: string, contribution: Contribution): string {
  const level = String(contribution.value);
  const shown = level === '' ? '(empty)' : level.length > 60 ? level.slice(0, 57) + '...' : level;
  const unseen = contribution.z === 0 ? ', not seen in training' : '';
  const effect = contribution.contribution > 0 ? 'raises the risk' : contribution.contribution < 0 ? 'lowers the risk' : 'no effect';
  return `${label}: ${shown} (${effect}${unseen})`;
}

/** Reasons shown per client: at most this many, only terms that raise the risk. */
export const SHOWN_REASONS = 3;

/** The reasons a client is at risk: the largest positive contributions, in words. */
export function reasonPhrases(model: ModelFile, explanation: Explanation, max = SHOWN_REASONS): string[] {
  const phrases = explanation.contributions
    .filter((c) => c.contribution > 0)
    .slice(0, max)
    .map((c) => describeContribution(model, c));
  return phrases.length > 0 ? phrases : ['no feature raises the risk above a typical client'];
}

// ---------------------------------------------------------------- the risk-scores CSV

/**
 * The risk-scores CSV line by line (header first): rank, the id column,
 * probability, every feature's value as read (empty when missing), reasons.
 */
export function* riskListCsv(list: RiskList, model: ModelFile, data: Pick<Dataset, 'columns' | 'categories'>): Generator<string> {
  const levels = model.categorical.map(({ feature }) => data.categories.find((category) => category.feature === feature));
  const header = ['rank', list.idColumn, 'probability', ...list.features, ...model.categorical.map(({ feature }) => feature), 'reasons'];
  let chunk = formatCsvRecord(header) + '\n';
  let rank = 0;
  for (const client of list.clients) {
    rank++;
    const values = data.columns.map((column) => {
      const value = column[client.row];
      return value === value ? String(value) : '';
    });
    for (const column of levels) values.push(column ? column.levels[column.codes[client.row]] : '');
    const reasons = reasonPhrases(model, list.explain(client)).join('; ');
    chunk += formatCsvRecord([String(rank), client.id, String(client.probability), ...values, reasons]) + '\n';
    // Lines go out in chunks of about 64 KB: one write each, not one per client.
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}
