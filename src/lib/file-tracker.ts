/**
 * Which input files are new: a file is new when its name and SHA-256 pair is
 * neither in the deployed model's ingestion record nor among the files earlier
 * ticks already checked (the checked-files record in the deployment store). Hashes
 * are cached by name, size and mtime so an idle tick reads no data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readJsonIfExists, sha256File, writeJsonAtomic } from './files.js';
import { FILE_NAMES } from './layout.js';

/** A file of the input folder as a tick sees it. */
export interface TrackedFile {
  name: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** The checked-files record: files judged by earlier ticks, plus the hash cache. */
export interface CheckedRecord {
  checked: { name: string; sha256: string; checked_at: string; outcome: string }[];
  hashes: TrackedFile[];
}

/** Reads the checked-files record (empty when missing or unreadable). */
export function readChecked(store: string): CheckedRecord {
  try {
    const value = readJsonIfExists(path.join(store, FILE_NAMES.checkedFiles)) as CheckedRecord | undefined;
    if (value && Array.isArray(value.checked) && Array.isArray(value.hashes)) return value;
  } catch {
    // A damaged record only costs re-hashing and re-checking.
  }
  return { checked: [], hashes: [] };
}

/** Writes the checked-files record atomically. */
export function writeChecked(store: string, record: CheckedRecord): void {
  writeJsonAtomic(path.join(store, FILE_NAMES.checkedFiles), record);
}

/** Stats and hashes (cached) the given files of a folder. */
export function trackFiles(folder: string, names: string[], cache: TrackedFile[]): TrackedFile[] {
  return names.map((name) => {
    const stat = fs.statSync(path.join(folder, name));
    const hit = cache.find((entry) => entry.name === name && entry.size === stat.size && entry.mtimeMs === stat.mtimeMs);
    return { name, size: stat.size, mtimeMs: stat.mtimeMs, sha256: hit?.sha256 ?? sha256File(path.join(folder, name)) };
  });
}

/**
 * How far ahead of the clock a modification time may lie and still mean "just
 * written": file systems stamp sub-millisecond times that `Date.now()` has not
 * reached yet. Further ahead is a skewed clock or a restored time, not a write
 * in progress, and waiting for it would wait until that time.
 */
const FUTURE_TOLERANCE_MS = 1000;

/** True when a file modified at `mtimeMs` may still be being written. */
export function isSettling(mtimeMs: number, settleSeconds: number, now = Date.now()): boolean {
  if (settleSeconds <= 0) return false;
  const age = now - mtimeMs;
  return age < settleSeconds * 1000 && age >= -FUTURE_TOLERANCE_MS;
}

/** Splits tracked files into new ones ready to ingest, and new ones still being written. */
export function classifyFiles(
  files: TrackedFile[],
  seen: { name: string; sha256: string }[],
  settleSeconds: number,
  now = Date.now(),
): { fresh: TrackedFile[]; settling: TrackedFile[] } {
  const known = new Set(seen.map((file) => `${file.name}\0${file.sha256}`));
  const unseen = files.filter((file) => !known.has(`${file.name}\0${file.sha256}`));
  const settling = unseen.filter((file) => isSettling(file.mtimeMs, settleSeconds, now));
  return { fresh: unseen.filter((file) => !settling.includes(file)), settling };
}
