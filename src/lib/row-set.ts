/**
 * A set of row keys for duplicate detection over millions of rows: an
 * open-addressing table of 32-bit hashes in typed arrays. Every key is kept as
 * its UTF-8 bytes in one arena, so no per-row string object stays alive, and a
 * key can be added straight from the bytes of a read buffer (the ingestion fast
 * path) or from a string (the general path) with the same meaning. Equal
 * hashes are confirmed by comparing the whole key.
 */

/** Insert-only set of row keys (UTF-8 byte strings). */
export class RowSet {
  /** Pairs (key number + 1, hash) per slot, side by side so a probe touches one cache line; 0 marks a free slot. */
  private table: Int32Array;
  private mask: number;
  private arena: Buffer;
  private used = 0;
  /** Start of each key in the arena; starts[count] is the end of the last one. */
  private starts: Int32Array;
  private count = 0;

  /** Sized for `expected` keys of `expectedBytes` in all (both grow as needed). */
  constructor(expected = 1024, expectedBytes = expected * 32) {
    let size = 1024;
    while (size < expected * 2) size *= 2;
    this.table = new Int32Array(size * 2);
    this.mask = size - 1;
    this.starts = new Int32Array(Math.max(1024, expected + 1));
    this.arena = Buffer.allocUnsafe(Math.max(1 << 16, Math.ceil(expectedBytes)));
  }

  /** Number of keys held. */
  get size(): number {
    return this.count;
  }

  /** Adds `key` (as its UTF-8 bytes); returns false when it was already present. */
  add(key: string): boolean {
    const length = Buffer.byteLength(key);
    this.reserve(length);
    // Written at the arena's free end: kept when new, overwritten by the next key otherwise.
    this.arena.write(key, this.used, length, 'utf8');
    return this.addReserved(length);
  }

  /** Adds the key `bytes[start..end)`; returns false when it was already present. */
  addBytes(bytes: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    this.reserve(length);
    const arena = this.arena;
    const at = this.used;
    for (let i = 0; i < length; i++) arena[at + i] = bytes[start + i];
    return this.addReserved(length);
  }

  /** Makes room for a key of `length` bytes at the arena's free end. */
  private reserve(length: number): void {
    if (this.used + length <= this.arena.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.used + length));
    this.arena.copy(bigger, 0, 0, this.used);
    this.arena = bigger;
  }

  /** Looks up the key written at the arena's free end; keeps it when new. */
  private addReserved(length: number): boolean {
    const arena = this.arena;
    const at = this.used;
    // 32-bit FNV-1a over the bytes.
    let hash = 0x811c9dc5;
    for (let i = at; i < at + length; i++) {
      hash ^= arena[i];
      hash = Math.imul(hash, 0x01000193);
    }
    hash |= 0;
    const table = this.table;
    let index = hash & this.mask;
    for (;;) {
      const entry = table[2 * index];
      if (entry === 0) break;
      if (table[2 * index + 1] === hash && this.equals(entry - 1, at, length)) return false;
      index = (index + 1) & this.mask;
    }
    table[2 * index] = this.count + 1;
    table[2 * index + 1] = hash;
    if (this.count + 2 > this.starts.length) {
      const bigger = new Int32Array(this.starts.length * 2);
      bigger.set(this.starts);
      this.starts = bigger;
    }
    this.used += length;
    this.count++;
    this.starts[this.count] = this.used;
    if (this.count * 4 > this.table.length) this.grow();
    return true;
  }

  private equals(slot: number, at: number, length: number): boolean {
    const start = this.starts[slot];
    if (this.starts[slot + 1] - start !== length) return false;
    const arena = this.arena;
    for (let i = 0; i < length; i++) if (arena[start + i] !== arena[at + i]) return false;
    return true;
  }

  private grow(): void {
    const old = this.table;
    const size = old.length;
    this.table = new Int32Array(size * 2);
    this.mask = size - 1;
    for (let i = 0; i < old.length; i += 2) {
      const entry = old[i];
      if (entry === 0) continue;
      let index = old[i + 1] & this.mask;
      while (this.table[2 * index] !== 0) index = (index + 1) & this.mask;
      this.table[2 * index] = entry;
      this.table[2 * index + 1] = old[i + 1];
    }
  }
}
