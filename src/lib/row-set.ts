/**
 * A set of row keys for duplicate detection over millions of rows: an
 * open-addressing table of 32-bit hashes in typed arrays. Keys are copied into
 * one byte arena (Latin-1 keys, the usual case; others are kept as strings), so
 * no per-row string object stays alive and the file chunks they were cut from
 * can be freed. Equal hashes are confirmed by comparing the whole key.
 */

/** Insert-only set of strings. */
export class RowSet {
  private slots: Int32Array;
  private hashes: Uint32Array;
  private mask: number;
  private arena: Uint8Array;
  private used = 0;
  /** Start of each key in the arena; starts[count] is the end of the last one. */
  private starts: Int32Array;
  /** Keys with characters above U+00FF, by key number. */
  private readonly wide = new Map<number, string>();
  private count = 0;

  constructor(expected = 1024) {
    let size = 1024;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.hashes = new Uint32Array(size);
    this.mask = size - 1;
    this.starts = new Int32Array(Math.max(1024, expected + 1));
    this.arena = new Uint8Array(Math.max(1 << 16, expected * 32));
  }

  /** Number of keys held. */
  get size(): number {
    return this.count;
  }

  /** Adds `key`; returns false when it was already present. */
  add(key: string): boolean {
    // 32-bit FNV-1a over UTF-16 code units; notes whether the key fits in bytes.
    let hash = 0x811c9dc5;
    let narrow = true;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      if (code > 0xff) narrow = false;
      hash ^= code;
      hash = Math.imul(hash, 0x01000193);
    }
    hash >>>= 0;
    let index = hash & this.mask;
    for (;;) {
      const slot = this.slots[index];
      if (slot === -1) break;
      if (this.hashes[index] === hash && this.equals(slot, key)) return false;
      index = (index + 1) & this.mask;
    }
    this.slots[index] = this.count;
    this.hashes[index] = hash;
    this.store(key, narrow);
    if (this.count * 2 > this.slots.length) this.grow();
    return true;
  }

  private equals(slot: number, key: string): boolean {
    const wide = this.wide.get(slot);
    if (wide !== undefined) return wide === key;
    const start = this.starts[slot];
    const end = this.starts[slot + 1];
    if (end - start !== key.length) return false;
    const arena = this.arena;
    for (let i = 0; i < key.length; i++) if (arena[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  private store(key: string, narrow: boolean): void {
    if (this.count + 2 > this.starts.length) {
      const bigger = new Int32Array(this.starts.length * 2);
      bigger.set(this.starts);
      this.starts = bigger;
    }
    if (narrow) {
      if (this.used + key.length > this.arena.length) {
        const bigger = new Uint8Array(Math.max(this.arena.length * 2, this.used + key.length));
        bigger.set(this.arena.subarray(0, this.used));
        this.arena = bigger;
      }
      for (let i = 0; i < key.length; i++) this.arena[this.used + i] = key.charCodeAt(i);
      this.used += key.length;
    } else {
      this.wide.set(this.count, key);
    }
    this.count++;
    this.starts[this.count] = this.used;
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldHashes = this.hashes;
    const size = oldSlots.length * 2;
    this.slots = new Int32Array(size).fill(-1);
    this.hashes = new Uint32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < oldSlots.length; i++) {
      const slot = oldSlots[i];
      if (slot === -1) continue;
      let index = oldHashes[i] & this.mask;
      while (this.slots[index] !== -1) index = (index + 1) & this.mask;
      this.slots[index] = slot;
      this.hashes[index] = oldHashes[i];
    }
  }
}
