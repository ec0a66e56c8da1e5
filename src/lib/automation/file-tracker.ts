/**
 * Which input files are new: a file is new when its name and SHA-256 pair is
 * neither in the deployed model's ingestion record nor among the files earlier
 * ticks already checked (the checked-files record in the deployment store).
 * Hashes are cached by name and stat identity (device, inode, size, and mtime
 * and ctime to the nanosecond), so an idle tick reads no data, and a file
 * rewritten in place is hashed again even with its size and mtime restored:
 * restoring the mtime moves the ctime, which no call can set back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readJsonFileIfExists, sha256File, writeJsonAtomic } from '../store/files.js';
import { isObject } from '../store/records.js';
import { FILE_NAMES } from '../layout.js';

/** A file of the input folder as a tick sees it. */
export interface TrackedFile {
  name: string;
  size: number;
  mtimeMs: number;
  /** statIdentity of the file when it was hashed. */
  identity: string;
  sha256: string;
}

/** What a rewrite of a file cannot keep: device, inode, size, and mtime and ctime in nanoseconds. */
export function statIdentity(stat: fs.BigIntStats): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

/** The checked-files record: files judged by earlier ticks, plus the hash cache. */
export interface CheckedRecord {
  checked: { name: string; sha256: string; checked_at: string; outcome: string }[];
  hashes: TrackedFile[];
}

/** True when `value` has the checked-files record's shape. */
export function isCheckedRecord(value: unknown): value is CheckedRecord {
  return isObject(value) && Array.isArray(value.checked) && Array.isArray(value.hashes);
}

/** Reads the checked-files record (empty when missing or unreadable). */
export function readChecked(store: string): CheckedRecord {
  try {
    const value = readJsonFileIfExists(path.join(store, FILE_NAMES.checkedFiles), 'the checked-files record');
    if (isCheckedRecord(value)) return value;
  } catch {
    // A damaged record only costs re-hashing and re-checking.
  }
  return { checked: [], hashes: [] };
}

/** Writes the checked-files record atomically. */
export function writeChecked(store: string, record: CheckedRecord): void {
  writeJsonAtomic(path.join(store, FILE_NAMES.checkedFiles), record);
}

/** A hash-cache entry as the cache keys it. */
export type CacheEntry = Pick<TrackedFile, 'name' | 'identity' | 'sha256'>;

/** Stats and hashes (cached) the given files of a folder; linear in the number of files. */
export function trackFiles(folder: string, names: string[], cache: CacheEntry[]): TrackedFile[] {
  const byKey = new Map<string, string>();
  for (const entry of cache) if (typeof entry.identity === 'string') byKey.set(`${entry.name}\0${entry.identity}`, entry.sha256);
  return names.map((name) => {
    const file = path.join(folder, name);
    const stat = fs.statSync(file, { bigint: true });
    const identity = statIdentity(stat);
    const sha256 = byKey.get(`${name}\0${identity}`) ?? sha256File(file);
    return { name, size: Number(stat.size), mtimeMs: Number(stat.mtimeNs) / 1e6, identity, sha256 };
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
  const waiting = new Set(settling);
  return { fresh: unseen.filter((file) => !waiting.has(file)), settling };
}
