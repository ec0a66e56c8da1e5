/**
 * A running tally of the run history for the metrics: ticks by outcome, the
 * newest tick of each outcome, and the newest drift check. The history is
 * append-only (run-history.ts appends and fsyncs; nothing rewrites it in
 * place), so a refresh reads only the bytes appended since the last one; a file
 * with another inode, a smaller size, or the same size and another mtime is
 * read again from the start. Reads are asynchronous and in bounded chunks, so a
 * long history never holds the event loop for long.
 *
 * Lines are judged as readRuns judges them: a line that is not a record with a
 * string outcome is skipped; an unterminated last line (a tick still writing,
 * or one killed mid-line) waits until a newline ends it.
 */
import fs from 'node:fs';
import { OUTCOMES, parseRunLine, type Outcome, type RunRecord } from '../store/run-history.js';

/**
 * The outputs a tick refreshes after ingesting new data (run record `refreshed`,
 * `refresh_failed`). apicalls is left out: its success is not recorded as a refresh.
 */
const REFRESHED_OUTPUTS = new Set(['diagnostics', 'report']);

/** What the newest drift check found. */
export interface DriftCheck {
  /** The deployed version it checked (null when the record does not say). */
  version: number | null;
  /** F1 of the deployed model on the new data (null when it could not be computed). */
  new_data_f1: number | null;
  /** The model-drift rule's threshold: a new-data F1 below it is drift (null when unknown). */
  threshold: number | null;
  /** Per-feature PSI and test p-value (KS for a numeric feature, chi-square for a categorical one) between the training data and the new data. */
  features: Record<string, { psi: number; ks_pvalue?: number; chi2_pvalue?: number }>;
}

/** The tally at one instant. */
export interface RunTallySnapshot {
  /** Ticks by outcome (every outcome present, 0 when none). */
  ticks: Record<Outcome, number>;
  /** Unix time in seconds at which the newest tick of each outcome finished (outcomes never seen are absent). */
  lastTick: Partial<Record<Outcome, number>>;
  /** The newest tick that checked drift, or null. */
  drift: DriftCheck | null;
  /** Unix time in seconds of the newest tick that refreshed each output (`ok`) and that failed to (`failed`). */
  refresh: Record<string, { ok?: number; failed?: number }>;
}

const CHUNK = 1 << 20;

function driftCheckOf(record: RunRecord): DriftCheck | null {
  if (!record.model_drift && !record.data_drift) return null;
  const features: DriftCheck['features'] = {};
  for (const [name, drift] of Object.entries(record.data_drift ?? {})) {
    if (typeof drift?.psi !== 'number') continue;
    if (drift.kind === 'categorical' && typeof drift.chi2_pvalue === 'number')
      features[name] = { psi: drift.psi, chi2_pvalue: drift.chi2_pvalue };
    else if (drift.kind !== 'categorical' && typeof drift.ks_pvalue === 'number')
      features[name] = { psi: drift.psi, ks_pvalue: drift.ks_pvalue };
  }
  const f1 = record.scores?.new_data_f1 ?? record.model_drift?.new_f1 ?? null;
  const threshold = record.model_drift?.threshold;
  return {
    version: typeof record.version_before === 'number' ? record.version_before : null,
    new_data_f1: typeof f1 === 'number' && Number.isFinite(f1) ? f1 : null,
    threshold: typeof threshold === 'number' && Number.isFinite(threshold) ? threshold : null,
    features,
  };
}

/** Follows one run-history file; see the module comment. */
export class RunTally {
  private identity: { ino: number; dev: number; mtimeMs: number } | null = null;
  /** Bytes consumed: everything before this offset ends with a newline and has been counted. */
  private offset = 0;
  private ticks = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<Outcome, number>;
  private lastTick: Partial<Record<Outcome, number>> = {};
  private drift: DriftCheck | null = null;
  private refresh: RunTallySnapshot['refresh'] = {};
  private inFlight: Promise<void> | null = null;

  constructor(private readonly file: string) {}

  /** Catches up with the file and answers the tally; concurrent callers share one read. */
  async snapshot(): Promise<RunTallySnapshot> {
    this.inFlight ??= this.catchUp().finally(() => (this.inFlight = null));
    await this.inFlight;
    const refresh = Object.fromEntries(Object.entries(this.refresh).map(([output, times]) => [output, { ...times }]));
    return { ticks: { ...this.ticks }, lastTick: { ...this.lastTick }, drift: this.drift, refresh };
  }

  private reset(): void {
    this.identity = null;
    this.offset = 0;
    for (const outcome of OUTCOMES) this.ticks[outcome] = 0;
    this.lastTick = {};
    this.drift = null;
    this.refresh = {};
  }

  private async catchUp(): Promise<void> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.reset();
      throw error;
    }
    try {
      const stat = await handle.stat();
      const known = this.identity;
      const sameFile = known !== null && known.ino === stat.ino && known.dev === stat.dev;
      const appendedOnly = sameFile && (stat.size > this.offset || (stat.size === this.offset && stat.mtimeMs === known.mtimeMs));
      if (!appendedOnly) this.reset();
      this.identity = { ino: stat.ino, dev: stat.dev, mtimeMs: stat.mtimeMs };
      await this.readFrom(handle, stat.size);
    } finally {
      await handle.close();
    }
  }

  /** Counts the complete lines between the offset and `size`. */
  private async readFrom(handle: fs.promises.FileHandle, size: number): Promise<void> {
    let carry = Buffer.alloc(0);
    let position = this.offset;
    while (position < size) {
      const chunk = Buffer.alloc(Math.min(CHUNK, size - position));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let end = bytes.indexOf(0x0a); end !== -1; end = bytes.indexOf(0x0a, start)) {
        this.count(bytes.toString('utf8', start, end));
        start = end + 1;
      }
      // `bytes` begins at the offset (the carried partial line has not been consumed yet).
      this.offset += start;
      carry = Buffer.from(bytes.subarray(start));
    }
  }

  private count(line: string): void {
    if (line.trim() === '') return;
    let record: RunRecord;
    try {
      record = parseRunLine(line);
    } catch {
      return;
    }
    this.ticks[record.outcome]++;
    const finished = Date.parse(record.finished_at) / 1000;
    if (Number.isFinite(finished) && !(finished <= (this.lastTick[record.outcome] ?? -Infinity))) this.lastTick[record.outcome] = finished;
    const drift = driftCheckOf(record);
    if (drift) this.drift = drift;
    if (Number.isFinite(finished)) {
      const note = (outputs: unknown, result: 'ok' | 'failed'): void => {
        if (!Array.isArray(outputs)) return;
        for (const output of outputs) {
          // Only the outputs a tick refreshes: the label values stay bounded.
          if (!REFRESHED_OUTPUTS.has(output as string)) continue;
          const times = (this.refresh[output as string] ??= {});
          if (!(finished <= (times[result] ?? -Infinity))) times[result] = finished;
        }
      };
      note(record.refreshed, 'ok');
      note(record.refresh_failed, 'failed');
    }
  }
}
