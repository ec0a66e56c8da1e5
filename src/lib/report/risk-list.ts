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
 *   The intercept plus all terms is the client's log-odds.
 *
 * Pure: the dataset and the model arrive as arguments. Building the list is
 * linear in the rows (plus the sort); reasons are computed per client on
 * demand, so a million-row list does not hold a million reason arrays.
 */
import type { DataSchema } from '../config.js';
import { formatCsvRecord } from '../data/csv.js';
import type { Dataset } from '../data/dataset.js';
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
  /** The value as read; null for an empty cell (imputed with the training median). */
  value: number | null;
  /** Standardized value the coefficient multiplies (the raw value for a model without standardization). */
  z: number;
  contribution: number;
}

/** A client's log-odds taken apart: intercept + Σ contributions = logOdds. */
export interface Explanation {
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
  const probabilities = predictProbabilities(model, data.columns);
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
    explain: (client) => explainRow(model, data.columns, client.row),
  };
}

/** The log-odds of row `row` of `columns` (in model feature order), term by term, largest first. */
export function explainRow(model: ModelFile, columns: ArrayLike<number>[], row: number): Explanation {
  const std = model.standardization;
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
  contributions.sort((a, b) => b.contribution - a.contribution);
  return { intercept: model.intercept, logOdds, contributions };
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
  if (contribution.value === null)
    return `${label} not recorded (taken as the usual ${formatAmount(model.imputation[contribution.feature])})`;
  const std = model.standardization;
  if (std && f >= 0) return `${label} ${distance(contribution.z)} (${formatAmount(contribution.value)} vs ${formatAmount(std.mean[f])})`;
  const typical = model.imputation[contribution.feature];
  const side = contribution.value < typical ? 'below typical' : contribution.value > typical ? 'above typical' : 'typical';
  return `${label} ${side} (${formatAmount(contribution.value)} vs ${formatAmount(typical)})`;
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
export function* riskListCsv(list: RiskList, model: ModelFile, data: Pick<Dataset, 'columns'>): Generator<string> {
  let chunk = formatCsvRecord(['rank', list.idColumn, 'probability', ...list.features, 'reasons']) + '\n';
  let rank = 0;
  for (const client of list.clients) {
    rank++;
    const values = data.columns.map((column) => {
      const value = column[client.row];
      return value === value ? String(value) : '';
    });
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
