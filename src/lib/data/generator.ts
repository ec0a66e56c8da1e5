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
}

/** One generated client row (before missing cells are punched). */
export interface ClientRow {
  corporation: string;
  lastmonth_activity: number;
  lastyear_activity: number;
  number_of_employees: number;
  exited: 0 | 1;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Draws one client of the given world. */
export function drawClient(random: Random, world: WorldSettings): ClientRow {
  const { drift, conceptDrift } = world;
  let corporation = '';
  for (let i = 0; i < 4; i++) corporation += LETTERS[random.int(26)];
  const lastyear = Math.max(0, Math.round(1200 * (1 + 0.5 * drift) * Math.exp(0.5 * random.normal())));
  const lastmonth = Math.max(0, Math.round((lastyear / 12) * Math.exp(0.35 * random.normal())));
  const employees = Math.max(1, Math.round(40 * (1 + drift) * Math.exp((0.1 + 0.6 * drift) * random.normal())));
  const activityEffect = (1 - conceptDrift) * (-2 * ((lastmonth - 100) / 50) + 0.6 * ((lastyear - 1200) / 600));
  const sizeEffect = -3 * (Math.max(0, employees - 50) / 50);
  const logit = 0.3 + Math.max(-8, Math.min(8, activityEffect + sizeEffect));
  const exited = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  return { corporation, lastmonth_activity: lastmonth, lastyear_activity: lastyear, number_of_employees: employees, exited };
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
}

export const CSV_HEADER = 'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited';

/**
 * Generates the CSV lines (without header) of a set of files, one array per
 * file. Duplicates copy earlier rows of the same set, so they appear both
 * within and across files.
 */
export function* generateFileSet(random: Random, settings: FileSetSettings): Generator<string[]> {
  const earlier: string[] = [];
  const baseWorld: WorldSettings = { drift: 0, conceptDrift: 0 };
  for (let file = 0; file < settings.files; file++) {
    const lines: string[] = [];
    for (let row = 0; row < settings.rowsPerFile; row++) {
      if (earlier.length > 0 && random.next() < settings.duplicateRate) {
        lines.push(earlier[random.int(earlier.length)]);
        continue;
      }
      const world = random.next() < settings.worldShare ? settings.world : baseWorld;
      const client = drawClient(random, world);
      const cell = (value: number): string => (random.next() < settings.missingRate ? '' : String(value));
      const line = `${client.corporation},${cell(client.lastmonth_activity)},${cell(client.lastyear_activity)},${cell(client.number_of_employees)},${client.exited}`;
      lines.push(line);
      // Keep a bounded sample of earlier rows to copy from (memory stays flat for 10M rows).
      if (earlier.length < 100_000) earlier.push(line);
      else earlier[random.int(earlier.length)] = line;
    }
    yield lines;
  }
}
