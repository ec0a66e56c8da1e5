/**
 * Ticks whose run record could not be written (a full disk, a read-only
 * store): counted in `unrecordedticks.json` beside the run history, so that the
 * API can publish them (`risk_unrecorded_ticks_total`) when the history itself
 * has no trace of them.
 *
 * A full disk has no room for a new file, so the file is reserved while there is
 * room (every tick makes sure it exists) at a fixed size, and always rewritten
 * in place over its own bytes: a rewrite needs no new block. The JSON is padded
 * with spaces to that size.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FILE_NAMES } from '../layout.js';
import type { RunRecord } from './run-history.js';
import { writeAll } from './files.js';

/** What the file holds. */
export interface UnrecordedTicks {
  /** Ticks whose record could not be written, since the store was made. */
  unrecorded_ticks: number;
  /** The newest of them. */
  last: { finished_at: string; run_id: string; outcome: string; error: string } | null;
}

/** The reserved size: room for the counts and an error message of some 3,000 characters. */
const SIZE = 4096;

function fileOf(store: string): string {
  return path.join(store, FILE_NAMES.unrecordedTicks);
}

function encode(value: UnrecordedTicks): Buffer {
  let text = JSON.stringify(value);
  if (Buffer.byteLength(text) > SIZE - 1 && value.last) {
    const room = value.last.error.length - (Buffer.byteLength(text) - (SIZE - 1)) - 3;
    text = JSON.stringify({ ...value, last: { ...value.last, error: `${value.last.error.slice(0, Math.max(0, room))}...` } });
  }
  const bytes = Buffer.alloc(SIZE, ' ');
  bytes.write(text, 0, 'utf8');
  bytes[SIZE - 1] = 0x0a;
  return bytes;
}

/** Creates the file (no unrecorded tick yet) while there is room for it; a failure is left for the next tick. */
export function reserveUnrecordedTicks(store: string): void {
  const file = fileOf(store);
  if (fs.existsSync(file)) return;
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(temporary, encode({ unrecorded_ticks: 0, last: null }));
    // Linked, not renamed: a reservation made meanwhile by another tick is not replaced.
    fs.linkSync(temporary, file);
  } catch {
    // no room yet, or another tick reserved it first
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** Reads the counts; zero when the file does not exist. */
export function readUnrecordedTicks(store: string): UnrecordedTicks {
  let text: string;
  try {
    text = fs.readFileSync(fileOf(store), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { unrecorded_ticks: 0, last: null };
    throw error;
  }
  const value = JSON.parse(text) as UnrecordedTicks;
  if (typeof value?.unrecorded_ticks !== 'number') throw new Error(`${fileOf(store)}: not a count of unrecorded ticks`);
  return value;
}

/** Counts one tick whose record could not be written, rewriting the reserved file in place. */
export function noteUnrecordedTick(store: string, record: RunRecord, error: string): void {
  const file = fileOf(store);
  const fd = fs.openSync(file, 'r+');
  try {
    const before = readUnrecordedTicks(store);
    const next: UnrecordedTicks = {
      unrecorded_ticks: before.unrecorded_ticks + 1,
      last: { finished_at: record.finished_at, run_id: record.run_id, outcome: record.outcome, error },
    };
    writeAll(fd, encode(next), file, 0);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
