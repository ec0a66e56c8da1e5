/**
 * Deterministic synthetic client data with the default schema, for the shipped
 * practice/source/test sets, the tests and the benchmarks.
 *
 * One true relation: clients with low last-month activity tend to leave, and
 * clients above ~50 employees tend to stay. In the practice world (drift 0)
 * nearly every client has about 40 employees, so a model fitted there cannot
 * see the size effect; the drift knob makes clients larger and far more varied
 * in size, which lowers that model's F1 on drifted data, while a model
 * retrained on drifted data also scores well on a test set spanning both
 * worlds. The concept-drift knob changes the relation itself (the activity
 * effect fades at 1 and reverses at 2).
 *
 * With `categories` on, each client also gets five text columns (a 50-level
 * `region`, `contract`, a yes/no `support_plan`, `payment_method`, `industry`)
 * that move the risk (month-to-month contracts raise it, a support plan lowers
 * it), and the category-drift knob moves their level shares (more
 * month-to-month, fewer support plans, the region mass moving to the other end
 * of the list). With `labelledTarget`, the target is `churned` yes/no instead of
 * `exited` 0/1. Both are off by default, and then no extra random draw is made,
 * so the default files stay byte for byte what they were.
 */
/** A seeded pseudo-random source (mulberry32): same seed, same stream. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** The shape of one generated world. */
export interface WorldSettings {
  /** Distribution shift, 0 = practice world; 1 = the default drifted world. */
  drift: number;
  /** Change of the relation to `exited`: 0 none, 1 the activity effect is gone, 2 reversed. */
  conceptDrift: number;
  /** Shift of the categorical level shares: 0 none, 1 half way to the drifted shares, 2 and more all the way. */
  categoryDrift?: number;
}

/** One categorical column of the generator: its levels, their shares at category drift 0 and fully drifted, their effects on the log-odds. */
export interface CategoricalColumn {
  name: string;
  levels: readonly string[];
  shares: readonly number[];
  driftedShares: readonly number[];
  effects: readonly number[];
}

const STATES =
  'AK AL AR AZ CA CO CT DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM NV NY OH OK OR PA RI SC SD TN TX UT VA VT WA WI WV WY'.split(
    ' ',
  );
const INDUSTRIES = [
  'agriculture',
  'construction',
  'energy',
  'finance',
  'health',
  'manufacturing',
  'media',
  'retail',
  'technology',
  'transport',
];
const zipf = (count: number): number[] => Array.from({ length: count }, (_, i) => 1 / (i + 1) ** 0.8);

/** The generator's categorical columns, in the order they follow the numeric ones. */
export const CATEGORICAL_COLUMNS: readonly CategoricalColumn[] = [
  // Region: a long tail over the 50 states; drifted, the tail becomes the head.
  {
    name: 'region',
    levels: STATES,
    shares: zipf(50),
    driftedShares: zipf(50).reverse(),
    effects: STATES.map((_, i) => (((i * 7) % 10) - 4.5) / 10),
  },
  {
    name: 'contract',
    levels: ['month-to-month', 'one-year', 'two-year'],
    shares: [0.45, 0.3, 0.25],
    driftedShares: [0.75, 0.15, 0.1],
    effects: [0.8, 0, -0.9],
  },
  { name: 'support_plan', levels: ['no', 'yes'], shares: [0.55, 0.45], driftedShares: [0.8, 0.2], effects: [0, -0.7] },
  {
    name: 'payment_method',
    levels: ['bank transfer', 'credit card', 'electronic check', 'mailed check'],
    shares: [0.3, 0.3, 0.25, 0.15],
    driftedShares: [0.15, 0.2, 0.5, 0.15],
    effects: [0, -0.1, 0.4, 0.1],
  },
  {
    name: 'industry',
    levels: INDUSTRIES,
    shares: INDUSTRIES.map(() => 1),
    driftedShares: INDUSTRIES.map((_, i) => (i === 3 || i === 8 ? 4 : 1)),
    effects: INDUSTRIES.map((_, i) => (((i * 3) % 5) - 2) / 10),
  },
];

/** Draws a level index of `column` in a world whose category drift is `drift`. */
function drawLevel(random: Random, column: CategoricalColumn, drift: number): number {
  const t = Math.min(1, drift / 2);
  const weights = column.shares.map((share, i) => (1 - t) * share + t * column.driftedShares[i]);
  let u = random.next() * weights.reduce((sum, w) => sum + w, 0);
  for (let i = 0; i < weights.length - 1; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** One generated client row (before missing cells are punched). */
export interface ClientRow {
  corporation: string;
  lastmonth_activity: number;
  lastyear_activity: number;
  number_of_employees: number;
  exited: 0 | 1;
  /** Level of each CATEGORICAL_COLUMNS column, when drawn with categories. */
  levels?: string[];
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Draws one client of the given world, with the categorical columns when `categories`. */
export function drawClient(random: Random, world: WorldSettings, categories = false): ClientRow {
  const { drift, conceptDrift } = world;
  let corporation = '';
  for (let i = 0; i < 4; i++) corporation += LETTERS[random.int(26)];
  const lastyear = Math.max(0, Math.round(1200 * (1 + 0.5 * drift) * Math.exp(0.5 * random.normal())));
  const lastmonth = Math.max(0, Math.round((lastyear / 12) * Math.exp(0.35 * random.normal())));
  const employees = Math.max(1, Math.round(40 * (1 + drift) * Math.exp((0.1 + 0.6 * drift) * random.normal())));
  const activityEffect = (1 - conceptDrift) * (-2 * ((lastmonth - 100) / 50) + 0.6 * ((lastyear - 1200) / 600));
  const sizeEffect = -3 * (Math.max(0, employees - 50) / 50);
  let categoryEffect = 0;
  let levels: string[] | undefined;
  if (categories) {
    levels = CATEGORICAL_COLUMNS.map((column) => {
      const level = drawLevel(random, column, world.categoryDrift ?? 0);
      categoryEffect += column.effects[level];
      return column.levels[level];
    });
  }
  const logit = 0.3 + Math.max(-8, Math.min(8, activityEffect + sizeEffect + categoryEffect));
  const exited = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  const client: ClientRow = {
    corporation,
    lastmonth_activity: lastmonth,
    lastyear_activity: lastyear,
    number_of_employees: employees,
    exited,
  };
  if (levels) client.levels = levels;
  return client;
}

/** Settings for one generated file set. */
export interface FileSetSettings {
  files: number;
  rowsPerFile: number;
  /** Share of rows that repeat an earlier row exactly (0-1). */
  duplicateRate: number;
  /** Share of feature cells left empty (0-1). */
  missingRate: number;
  /** Share of rows drawn from `world`; the rest come from the undrifted world (test sets span both). */
  worldShare: number;
  world: WorldSettings;
  /** Add the CATEGORICAL_COLUMNS after the numeric ones. */
  categories?: boolean;
  /** The target as `churned` no/yes instead of `exited` 0/1. */
  labelledTarget?: boolean;
  /** Name clients `<prefix><n>` (n counting from 1 over the set) so ids are distinct, instead of four random letters. */
  idPrefix?: string;
}

export const CSV_HEADER = 'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited';

/** The labels of the labelled target, [negative, positive]. */
export const TARGET_LABELS = ['no', 'yes'] as const;

/** The header of a generated file with these settings. */
export function csvHeader(settings: Pick<FileSetSettings, 'categories' | 'labelledTarget'> = {}): string {
  const columns = CSV_HEADER.split(',').slice(0, -1);
  if (settings.categories) columns.push(...CATEGORICAL_COLUMNS.map((column) => column.name));
  columns.push(settings.labelledTarget ? 'churned' : 'exited');
  return columns.join(',');
}

/**
 * Generates the CSV lines (without header) of a set of files, one array per
 * file. Duplicates copy earlier rows of the same set, so they appear both
 * within and across files.
 */
export function* generateFileSet(random: Random, settings: FileSetSettings): Generator<string[]> {
  const earlier: string[] = [];
  const baseWorld: WorldSettings = { drift: 0, conceptDrift: 0 };
  let serial = 0;
  for (let file = 0; file < settings.files; file++) {
    const lines: string[] = [];
    for (let row = 0; row < settings.rowsPerFile; row++) {
      if (earlier.length > 0 && random.next() < settings.duplicateRate) {
        lines.push(earlier[random.int(earlier.length)]);
        continue;
      }
      const world = random.next() < settings.worldShare ? settings.world : baseWorld;
      const client = drawClient(random, world, settings.categories);
      const cell = (value: number | string): string => (random.next() < settings.missingRate ? '' : String(value));
      const corporation = settings.idPrefix === undefined ? client.corporation : `${settings.idPrefix}${++serial}`;
      let line = `${corporation},${cell(client.lastmonth_activity)},${cell(client.lastyear_activity)},${cell(client.number_of_employees)}`;
      // Levels hold no comma, quote or line break: written as they are.
      for (const level of client.levels ?? []) line += ',' + cell(level);
      line += ',' + (settings.labelledTarget ? TARGET_LABELS[client.exited] : client.exited);
      lines.push(line);
      // Keep a bounded sample of earlier rows to copy from (memory stays flat for 10M rows).
      if (earlier.length < 100_000) earlier.push(line);
      else earlier[random.int(earlier.length)] = line;
    }
    yield lines;
  }
}
