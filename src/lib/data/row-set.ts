/**
 * A set of row keys for duplicate detection over millions of rows: an
 * open-addressing table of 32-bit hashes in typed arrays. Every key is kept as
 * its UTF-8 bytes in one arena, so no per-row string object stays alive. Equal
 * hashes are confirmed by comparing the whole key.
 *
 * Keys come one at a time as strings (the general path), or as a batch of lines
 * of one read buffer (the ingestion fast path). A batch is copied into the
 * arena in one piece, with the bytes between its lines, instead of line by
 * line; then hashed, then looked up; then its new lines are moved down over
 * the duplicates' bytes, so the arena holds distinct rows only. (Reading every
 * line's table slot in a first pass, so the cache misses would overlap, was
 * measured slower.)
 */
import { constants } from 'node:buffer';
import { UserError } from '../errors.js';

/** The largest arena: a Buffer's limit (4 GiB on 64-bit Node 20). */
const MAX_ARENA = constants.MAX_LENGTH;

/** Positions of lines of one buffer, gathered to be looked up together. */
export class LineBatch {
  /** Where each line starts and ends (its line break excluded). */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** After `RowSet.addBatch`: 1 for a line whose key was new, 0 for a duplicate. */
  readonly fresh: Uint8Array;
  /** Working space of `RowSet.addBatch`: the hash of each line. */
  readonly hashes: Int32Array;
  count = 0;

  constructor(readonly capacity = 4096) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.fresh = new Uint8Array(capacity);
    this.hashes = new Int32Array(capacity);
  }

  /** Adds the line `[start, end)`; true when the batch is now full. */
  push(start: number, end: number): boolean {
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    return ++this.count === this.capacity;
  }
}

/** Insert-only set of row keys (UTF-8 byte strings). */
export class RowSet {
  /** Pairs (key number + 1, hash) per slot, side by side so a probe touches one cache line; 0 marks a free slot. */
  private table: Int32Array;
  private mask: number;
  private arena: Buffer;
  private used = 0;
  /** Where each key starts in the arena (unsigned: an arena may reach a Buffer's limit), and its length. */
  private starts: Uint32Array;
  private lengths: Int32Array;
  private count = 0;

  /** Sized for `expected` keys of `expectedBytes` in all (both grow as needed). */
  constructor(expected = 1024, expectedBytes = expected * 32) {
    let size = 1024;
    while (size < expected * 2) size *= 2;
    this.table = new Int32Array(size * 2);
    this.mask = size - 1;
    this.starts = new Uint32Array(Math.max(1024, expected));
    this.lengths = new Int32Array(this.starts.length);
    this.arena = Buffer.allocUnsafe(Math.min(MAX_ARENA, Math.max(1 << 16, Math.ceil(expectedBytes))));
  }

  /** Number of keys held. */
  get size(): number {
    return this.count;
  }

  /** Arena bytes in use: the distinct keys, with what lay between lines added together. */
  get bytesHeld(): number {
    return this.used;
  }

  /** Adds `key` (as its UTF-8 bytes); returns false when it was already present. */
  add(key: string): boolean {
    const length = Buffer.byteLength(key);
    this.reserve(length, 1);
    // Written at the arena's free end: kept when new, overwritten by the next key otherwise.
    const at = this.used;
    this.arena.write(key, at, length, 'utf8');
    if (!this.insert(hashOf(this.arena, at, at + length), at, length)) return false;
    this.used += length;
    return true;
  }

  /**
   * Adds the keys of `batch`, lines of `bytes`, in order (a line repeated
   * within the batch is a duplicate of its first); sets `batch.fresh` and
   * returns how many were new.
   */
  addBatch(bytes: Uint8Array, batch: LineBatch): number {
    const n = batch.count;
    if (n === 0) return 0;
    const { starts, ends, fresh, hashes } = batch;
    const from = starts[0];
    const to = ends[n - 1];
    this.reserve(to - from, n);
    // The lines are copied with what lies between them, then looked up where they lie.
    const arena = this.arena;
    const base = this.used;
    const offset = base - from;
    arena.set(bytes.subarray(from, to), base);
    this.used += to - from;
    for (let i = 0; i < n; i++) hashes[i] = hashOf(arena, starts[i] + offset, ends[i] + offset);
    const firstKey = this.count;
    let added = 0;
    for (let i = 0; i < n; i++) {
      const isNew = this.insert(hashes[i], starts[i] + offset, ends[i] - starts[i]);
      fresh[i] = isNew ? 1 : 0;
      if (isNew) added++;
    }
    if (added < n) this.compact(batch, offset, base, firstKey);
    return added;
  }

  /**
   * Moves the new keys of the batch just added down over the duplicates' bytes,
   * so the arena holds only distinct rows however many repeats a file has.
   */
  private compact(batch: LineBatch, offset: number, base: number, firstKey: number): void {
    const { starts: lineStarts, ends: lineEnds, fresh, count } = batch;
    const arena = this.arena;
    const starts = this.starts;
    let write = base;
    let key = firstKey;
    for (let i = 0; i < count; i++) {
      if (fresh[i] === 0) continue;
      // Lines i..last are new (with what lies between them): one move.
      let last = i;
      while (last + 1 < count && fresh[last + 1] === 1) last++;
      const from = lineStarts[i] + offset;
      const to = lineEnds[last] + offset;
      if (write !== from) arena.copyWithin(write, from, to);
      const shift = from - write;
      for (let line = i; line <= last; line++) starts[key++] -= shift;
      write += to - from;
      i = last;
    }
    this.used = write;
  }

  /** Makes room for `length` more arena bytes and `keys` more keys (the table then stays at most half full). */
  private reserve(length: number, keys: number): void {
    if (this.used + length > this.arena.length) {
      if (this.used + length > MAX_ARENA) {
        throw new UserError(
          `the distinct rows take more than ${MAX_ARENA} bytes (the limit of one buffer): too much input for one ingestion`,
        );
      }
      const bigger = Buffer.allocUnsafe(Math.min(MAX_ARENA, Math.max(this.arena.length * 2, this.used + length)));
      this.arena.copy(bigger, 0, 0, this.used);
      this.arena = bigger;
    }
    if (this.count + keys > this.starts.length) {
      const capacity = Math.max(this.starts.length * 2, this.count + keys);
      const starts = new Uint32Array(capacity);
      starts.set(this.starts);
      this.starts = starts;
      const lengths = new Int32Array(capacity);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    while ((this.count + keys) * 4 > this.table.length) this.grow();
  }

  /** Looks up the key `arena[at, at + length)`; records it when new (room was reserved). */
  private insert(hash: number, at: number, length: number): boolean {
    const table = this.table;
    const mask = this.mask;
    let index = hash & mask;
    for (;;) {
      const entry = table[2 * index];
      if (entry === 0) break;
      if (table[2 * index + 1] === hash && this.equals(entry - 1, at, length)) return false;
      index = (index + 1) & mask;
    }
    table[2 * index] = this.count + 1;
    table[2 * index + 1] = hash;
    this.starts[this.count] = at;
    this.lengths[this.count] = length;
    this.count++;
    return true;
  }

  private equals(key: number, at: number, length: number): boolean {
    if (this.lengths[key] !== length) return false;
    const start = this.starts[key];
    const arena = this.arena;
    for (let i = 0; i < length; i++) if (arena[start + i] !== arena[at + i]) return false;
    return true;
  }

  private grow(): void {
    const old = this.table;
    const size = old.length;
    const table = new Int32Array(size * 2);
    const mask = size - 1;
    for (let i = 0; i < old.length; i += 2) {
      const entry = old[i];
      if (entry === 0) continue;
      let index = old[i + 1] & mask;
      while (table[2 * index] !== 0) index = (index + 1) & mask;
      table[2 * index] = entry;
      table[2 * index + 1] = old[i + 1];
    }
    this.table = table;
    this.mask = mask;
  }
}

/** 32-bit FNV-1a over `bytes[start, end)`. */
function hashOf(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}
