/**
 * Schema inference for `init-config`: the cells of a user's CSV in, the
 * decisions out (which column is the id, which are numeric or categorical
 * features, which is the target and how its labels are ordered), each with the
 * reason printed to the user. Pure: the entry script reads the file and writes
 * the config.
 *
 * The rules, in the order they apply to each column:
 * - target: the column named by --target, else the one column with exactly
 *   two values and no empty cell (several such columns: the user must choose).
 *   Its two values are 0/1 (no labels needed) or become `target_labels`
 *   ordered [negative, positive] by a known pair (no/yes, false/true, ...),
 *   else sorted as strings.
 * - every cell empty: left out.
 * - numeric: every non-empty cell is a finite number (the rule training
 *   applies). A numeric column is the id only when its name says id (`id`,
 *   `client_id`, `AccountId`) and its values are all distinct.
 * - text, all values distinct and none empty: the id (the first such column;
 *   any later one is left out as another identifier).
 * - text with at most 50 levels, each seen twice on average (levels at most
 *   half the non-empty cells): categorical. An empty cell is a level of its own.
 * - any other text: left out (near-unique free text, or too many levels).
 */
import { DataError, UserError } from '../errors.js';
import { parseFeatureValue, parseTargetValue, raggedRow } from './dataset.js';

/** Most levels a column may have to be taken as categorical. */
export const MAX_LEVELS = 50;
/** Share of distinct values from which left-out text is called near-unique. */
const NEAR_UNIQUE_SHARE = 0.95;
/** `id`, `client_id`, `Client ID`, `id-number`, `AccountId`, `customerID`; not `paid` or `valid`. */
export const ID_NAME = /(^|[_\s.-])(id|Id|ID)$|^(id|Id|ID)[_\s.-]|[a-z](Id|ID)$/;

/** Pairs of target values in [negative, positive] order, compared in lower case. */
export const KNOWN_LABEL_PAIRS: readonly (readonly [string, string])[] = [
  ['no', 'yes'],
  ['n', 'y'],
  ['false', 'true'],
  ['f', 't'],
  ['0', '1'],
  ['off', 'on'],
  ['negative', 'positive'],
  ['neg', 'pos'],
  ['stayed', 'left'],
  ['stayed', 'churned'],
  ['retained', 'churned'],
];

/** What was seen in one column of the file. */
export interface ColumnProfile {
  name: string;
  /** Data rows (all columns have as many cells). */
  cells: number;
  empty: number;
  firstEmptyLine?: number;
  /** Non-empty cells that are not finite numbers. */
  nonNumeric: number;
  firstNonNumeric?: { line: number; text: string };
  /** Every non-empty value with its count, in order of first appearance. */
  counts: Map<string, number>;
  min: number;
  max: number;
}

/**
 * Collects the column profiles record by record. The header is checked first:
 * no empty or duplicate names, and not a line of numbers (a file without header).
 */
export class ColumnProfiler {
  private readonly columns: ColumnProfile[];
  rows = 0;

  constructor(
    header: string[],
    private readonly file: string,
  ) {
    const seen = new Set<string>();
    header.forEach((name, index) => {
      if (name.trim() === '') throw new DataError({ file, line: 1 }, `column ${index + 1} of the header has no name`);
      if (seen.has(name)) throw new DataError({ file, line: 1, column: name }, 'duplicate column name in the header');
      seen.add(name);
    });
    if (header.every((name) => !Number.isNaN(parseFeatureValue(name) ?? NaN))) {
      throw new DataError(
        { file, line: 1 },
        `the first line holds only numbers (${header.slice(0, 5).join(',')}${header.length > 5 ? ',...' : ''}): a header row naming the columns is needed`,
      );
    }
    this.columns = header.map((name) => ({ name, cells: 0, empty: 0, nonNumeric: 0, counts: new Map(), min: Infinity, max: -Infinity }));
  }

  /** Adds one data record (the line it starts on names it in errors). */
  add(fields: string[], line: number): void {
    if (fields.length !== this.columns.length) throw raggedRow(this.file, line, this.columns.length, fields.length);
    this.rows++;
    for (let c = 0; c < fields.length; c++) {
      const column = this.columns[c];
      const text = fields[c];
      column.cells++;
      if (text === '') {
        column.empty++;
        column.firstEmptyLine ??= line;
        continue;
      }
      column.counts.set(text, (column.counts.get(text) ?? 0) + 1);
      const value = parseFeatureValue(text);
      if (value === undefined || Number.isNaN(value)) {
        // A cell of blanks reads as missing for a number, but it is text to a category.
        if (value === undefined) {
          column.nonNumeric++;
          column.firstNonNumeric ??= { line, text };
        }
        continue;
      }
      if (value < column.min) column.min = value;
      if (value > column.max) column.max = value;
    }
  }

  /** The profiles of every column, in header order. */
  profiles(): ColumnProfile[] {
    return this.columns;
  }
}

/** The role given to a column. */
export type ColumnRole = 'id' | 'numeric' | 'categorical' | 'target' | 'left out';

/** One column's decision and why, as printed. */
export interface ColumnDecision {
  column: string;
  role: ColumnRole;
  reason: string;
}

/** The `schema` section inferred from a file. */
export interface InferredSchema {
  id_column?: string;
  features: string[];
  categorical_features: string[];
  target: string;
  target_labels?: [string, string];
}

/** Everything inferred from a file. */
export interface Inference {
  schema: InferredSchema;
  columns: ColumnDecision[];
}

/** Orders a labelled target's two values as [negative, positive] and says by which rule. */
export function orderTargetLabels(values: readonly [string, string]): { labels: [string, string]; rule: string } {
  const [a, b] = values;
  for (const [negative, positive] of KNOWN_LABEL_PAIRS) {
    if (a.toLowerCase() === negative && b.toLowerCase() === positive) return { labels: [a, b], rule: `the pair ${negative}/${positive}` };
    if (b.toLowerCase() === negative && a.toLowerCase() === positive) return { labels: [b, a], rule: `the pair ${negative}/${positive}` };
  }
  const labels = [a, b].sort() as [string, string];
  return { labels, rule: 'no known pair, so sorted as strings: the first is negative' };
}

const quoted = (values: Iterable<string>, limit = 8): string => {
  const list = [...values];
  const shown = list.slice(0, limit).map((value) => JSON.stringify(value));
  return shown.join(', ') + (list.length > limit ? `, ... (${list.length} in all)` : '');
};

const plural = (count: number, word: string): string => `${count.toLocaleString('en')} ${word}${count === 1 ? '' : 's'}`;

/** The two classes of a target column, or why it cannot be one. */
function targetClasses(profile: ColumnProfile): { zeroOne: boolean; values: string[] } {
  const values = [...profile.counts.keys()];
  const zeroOne = values.length > 0 && values.every((value) => parseTargetValue(value) !== undefined);
  if (!zeroOne) return { zeroOne, values };
  return { zeroOne, values: [...new Set(values.map((value) => String(parseTargetValue(value))))] };
}

function isTwoValued(profile: ColumnProfile): boolean {
  return profile.empty === 0 && targetClasses(profile).values.length === 2;
}

/** Checks the chosen target column (exit 2 with what was seen) and decides its labels. */
function decideTarget(profile: ColumnProfile, file: string): { decision: ColumnDecision; labels?: [string, string] } {
  const { zeroOne, values } = targetClasses(profile);
  const where = { file, column: profile.name };
  if (profile.empty === profile.cells) throw new DataError(where, 'the target column is empty');
  if (values.length > 2) {
    throw new DataError(where, `the target has ${values.length} distinct values (${quoted(values)}); a target needs exactly two`);
  }
  if (values.length < 2) throw new DataError(where, `the target holds one value only (${quoted(values)}); both classes are needed`);
  if (profile.empty > 0) {
    throw new DataError(
      { ...where, line: profile.firstEmptyLine },
      `the target has ${plural(profile.empty, 'empty cell')} (the first here); a target is never imputed: fill or drop those rows`,
    );
  }
  const counts = (value: string): number => profile.counts.get(value) ?? 0;
  if (zeroOne) {
    const positives = [...profile.counts].filter(([value]) => parseTargetValue(value) === 1).reduce((sum, [, n]) => sum + n, 0);
    return {
      decision: {
        column: profile.name,
        role: 'target',
        reason: `two values 0/1, 1 is positive (${plural(positives, 'row')} of ${profile.cells.toLocaleString('en')}); no labels needed`,
      },
    };
  }
  const { labels, rule } = orderTargetLabels(values as [string, string]);
  return {
    labels,
    decision: {
      column: profile.name,
      role: 'target',
      reason:
        `two values: target_labels ${JSON.stringify(labels)} = [negative, positive] by ${rule}; ` +
        `"${labels[1]}" is the risk predicted (${plural(counts(labels[1]), 'row')} of ${profile.cells.toLocaleString('en')}); swap them in the config if that is wrong`,
    },
  };
}

/** Picks the target column: the one named, else the only two-valued one. */
function pickTarget(profiles: ColumnProfile[], file: string, named?: string): ColumnProfile {
  if (named !== undefined) {
    const profile = profiles.find((column) => column.name === named);
    if (!profile) {
      throw new UserError(`--target: ${file} has no column "${named}" (columns: ${profiles.map((column) => column.name).join(', ')})`);
    }
    return profile;
  }
  const candidates = profiles.filter(isTwoValued);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    const withGaps = profiles.filter((column) => column.empty > 0 && targetClasses(column).values.length === 2);
    const near = withGaps.map((column) => `"${column.name}" has two values but ${plural(column.empty, 'empty cell')}`).join(', ');
    throw new UserError(
      `${file}: no column has exactly two values and no empty cell, so none can be the target${near ? ` (${near})` : ''}; name it with --target (columns: ${profiles
        .map((column) => column.name)
        .join(', ')})`,
    );
  }
  throw new UserError(
    `${file}: ${candidates.length} columns have exactly two values and could be the target: ${candidates
      .map((column) => `"${column.name}" (${quoted(column.counts.keys())})`)
      .join(', ')}; name one with --target`,
  );
}

/** Why a text column that is not categorical is left out. */
function leftOutText(profile: ColumnProfile, levels: number, filled: number): string {
  const what =
    levels >= NEAR_UNIQUE_SHARE * filled
      ? `near-unique text (${plural(levels, 'distinct value')} in ${filled.toLocaleString('en')} cells): free text or an identifier`
      : levels > MAX_LEVELS
        ? `text with ${plural(levels, 'distinct value')}: more than ${MAX_LEVELS} for a category`
        : `text with ${plural(levels, 'distinct value')} in ${plural(filled, 'cell')}: too few repeats for a category (a level must be seen twice on average)`;
  return `${what}${numericHint(profile, filled)}; add it to a feature list by hand to use it anyway`;
}

/** For a left-out column that is mostly numbers: the cells that keep it from being numeric. */
function numericHint(profile: ColumnProfile, filled: number): string {
  if (profile.nonNumeric * 2 >= filled) return '';
  const first = profile.firstNonNumeric!;
  const cells = profile.nonNumeric === 1 ? 'cell that is not a number' : `${plural(profile.nonNumeric, 'cell')} that are not numbers`;
  return `; it would be numeric but for ${profile.nonNumeric === 1 ? 'one ' : ''}${cells} (the first: "${first.text}" at line ${first.line}): fix them or leave them empty`;
}

const missing = (profile: ColumnProfile): string =>
  profile.empty === 0 ? '' : `; ${plural(profile.empty, 'empty cell')}, ${((100 * profile.empty) / profile.cells).toFixed(1)}%`;

/**
 * Infers the schema from the column profiles of a file with `rows` data rows.
 * Throws a UserError (exit 2) naming the file and what was seen when no target
 * can be chosen, the named target is not a two-valued column, or no feature is left.
 */
export function inferSchema(profiles: ColumnProfile[], file: string, options: { target?: string } = {}): Inference {
  const rows = profiles[0]?.cells ?? 0;
  if (rows === 0) throw new DataError({ file }, 'the file has a header but no data rows');
  const targetProfile = pickTarget(profiles, file, options.target);
  const target = decideTarget(targetProfile, file);
  const schema: InferredSchema = { features: [], categorical_features: [], target: targetProfile.name };

  const textId = profiles.find(
    (column) => column !== targetProfile && column.nonNumeric > 0 && column.empty === 0 && column.counts.size === rows,
  );
  const numericId = profiles.find(
    (column) =>
      column !== targetProfile && column.nonNumeric === 0 && column.empty === 0 && column.counts.size === rows && ID_NAME.test(column.name),
  );
  const id = textId ?? numericId;

  const columns = profiles.map((profile): ColumnDecision => {
    const decide = (role: ColumnRole, reason: string): ColumnDecision => ({ column: profile.name, role, reason });
    if (profile === targetProfile) return target.decision;
    if (profile === id) {
      return decide(
        'id',
        `${profile.nonNumeric > 0 ? 'text' : 'numbers, named as an id,'} with all ${plural(rows, 'value')} distinct and none empty: names the client in the risk list`,
      );
    }
    const filled = profile.cells - profile.empty;
    if (filled === 0) return decide('left out', 'every cell is empty');
    const levels = profile.counts.size;
    if (profile.nonNumeric === 0) {
      schema.features.push(profile.name);
      const range = profile.min === profile.max ? `always ${profile.min}` : `${profile.min} to ${profile.max}`;
      const constant = profile.min === profile.max ? '; a constant column adds nothing to the model' : '';
      return decide('numeric', `every non-empty cell is a number (${range}${missing(profile)})${constant}`);
    }
    if (profile.empty === 0 && levels === rows) {
      return decide(
        'left out',
        `all values distinct: free text or another identifier (the id is "${id!.name}")${numericHint(profile, filled)}`,
      );
    }
    if (levels <= MAX_LEVELS && levels * 2 <= filled) {
      schema.categorical_features.push(profile.name);
      const sorted = [...profile.counts.keys()].sort();
      return decide(
        'categorical',
        `text with ${plural(levels, 'level')} (${quoted(sorted, 6)})${missing(profile)}${profile.empty > 0 ? ', empty is a level of its own' : ''}`,
      );
    }
    return decide('left out', leftOutText(profile, levels, filled));
  });
  if (schema.features.length + schema.categorical_features.length === 0) {
    throw new UserError(`${file}: no column can be a feature (every column is the id, the target or left out: see the reasons above)`);
  }
  if (schema.features.length === 0) {
    throw new UserError(
      `${file}: no numeric column, and the model needs at least one in schema.features (categorical: ${schema.categorical_features.join(', ')})`,
    );
  }
  const ordered: InferredSchema = { ...(id ? { id_column: id.name } : {}), ...schema };
  if (target.labels) ordered.target_labels = target.labels;
  return { schema: ordered, columns };
}

/** The folder keys of a drafted config, relative to the config's folder. */
export interface DraftFolders {
  input_folder_path: string;
  output_folder_path: string;
  test_data_path: string;
  output_model_path: string;
  prod_deployment_path: string;
}

/** Default names of the folders a drafted config creates or expects beside itself. */
export const DRAFT_FOLDERS: Omit<DraftFolders, 'input_folder_path'> = {
  output_folder_path: 'ingesteddata',
  test_data_path: 'testdata',
  output_model_path: 'models',
  prod_deployment_path: 'production_deployment',
};

/**
 * The config written by init-config: the five folders (the input folder given
 * relative to the config's folder) and the inferred schema. Empty lists and
 * absent labels are left out, so the defaults apply.
 */
export function draftConfig(schema: InferredSchema, inputFolder: string): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  if (schema.id_column !== undefined) section.id_column = schema.id_column;
  section.features = schema.features;
  if (schema.categorical_features.length > 0) section.categorical_features = schema.categorical_features;
  section.target = schema.target;
  if (schema.target_labels) section.target_labels = schema.target_labels;
  return { input_folder_path: inputFolder, ...DRAFT_FOLDERS, schema: section };
}
