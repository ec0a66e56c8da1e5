/**
 * A set of row keys for duplicate detection over millions of rows: an
 * open-addressing table of 32-bit hashes in typed arrays, pointing into one
 * array of the key strings. Far less memory and GC work than a Set<string>
 * of the same keys; equal hashes are confirmed by comparing the strings.
 */

/** 32-bit FNV-1a over UTF-16 code units. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Insert-only set of strings. */
export class RowSet {
  private slots: Int32Array;
  private hashes: Uint32Array;
  private readonly keys: string[] = [];
  private mask: number;

  constructor(expected = 1024) {
    let size = 1024;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.hashes = new Uint32Array(size);
    this.mask = size - 1;
  }

  /** Number of keys held. */
  get size(): number {
    return this.keys.length;
  }

  /** Adds `key`; returns false when it was already present. */
  add(key: string): boolean {
    const hash = hashString(key);
    let index = hash & this.mask;
    for (;;) {
      const slot = this.slots[index];
      if (slot === -1) break;
      if (this.hashes[index] === hash && this.keys[slot] === key) return false;
      index = (index + 1) & this.mask;
    }
    this.slots[index] = this.keys.length;
    this.hashes[index] = hash;
    this.keys.push(key);
    if (this.keys.length * 2 > this.slots.length) this.grow();
    return true;
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
