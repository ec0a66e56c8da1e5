/**
 * The levels of a categorical column: each distinct cell text gets a code, in
 * order of first appearance. Cells are compared as written (no trimming, no
 * number canonicalisation: "5" and "5.0" are two levels), and can be looked up
 * from the bytes of a read buffer without making a string per cell, which keeps
 * reading millions of rows as fast as a numeric column.
 */

/** A categorical column: each row's level as a code into `levels`. */
export interface CategoryColumn {
  feature: string;
  /** Distinct cell texts, in order of first appearance ("" is the empty cell's level). */
  levels: string[];
  /** One code per row, an index into `levels`. */
  codes: Int32Array;
  /** Empty cells (the level ""). */
  missing: number;
}

/** FNV-1a over `bytes[start..end)`. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash | 0;
}

/** Insert-as-you-go index of the levels of one column. */
export class LevelIndex {
  /** Distinct texts in order of first appearance; the code of a level is its position. */
  readonly levels: string[] = [];
  private readonly bytes: Buffer[] = [];
  private readonly hashes: number[] = [];
  /** Open addressing: code + 1 per slot, 0 for a free one. */
  private table = new Int32Array(64);

  /** The code of the level written as `bytes[start..end)` (valid UTF-8), adding it when new. */
  codeOfBytes(bytes: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(bytes, start, end);
    const mask = this.table.length - 1;
    const width = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot];
      if (entry === 0) break;
      const code = entry - 1;
      if (this.hashes[code] !== hash) continue;
      const known = this.bytes[code];
      if (known.length !== width) continue;
      let same = true;
      for (let k = 0; k < width && same; k++) same = known[k] === bytes[start + k];
      if (same) return code;
    }
    return this.add(Buffer.from(bytes.subarray(start, end)), hash);
  }

  /** The code of the level `text`, adding it when new. */
  codeOf(text: string): number {
    const bytes = Buffer.from(text, 'utf8');
    return this.codeOfBytes(bytes, 0, bytes.length);
  }

  private add(bytes: Buffer, hash: number): number {
    const code = this.levels.length;
    this.levels.push(bytes.toString('utf8'));
    this.bytes.push(bytes);
    this.hashes.push(hash);
    if (2 * (code + 1) > this.table.length) {
      this.table = new Int32Array(this.table.length * 2);
      for (let c = 0; c <= code; c++) this.place(c);
    } else {
      this.place(code);
    }
    return code;
  }

  private place(code: number): void {
    const mask = this.table.length - 1;
    let slot = this.hashes[code] & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = code + 1;
  }
}

/**
 * Collects one categorical column row by row (codes grow by doubling, or are
 * sized up front when the row count is known).
 */
export class CategoryBuilder {
  readonly index = new LevelIndex();
  private codes: Int32Array;
  private emptyCode = -1;
  rows = 0;
  missing = 0;

  constructor(
    readonly feature: string,
    capacity = 1024,
  ) {
    this.codes = new Int32Array(Math.max(1, capacity));
  }

  /** Adds a row's cell from its bytes. */
  addBytes(bytes: Uint8Array, start: number, end: number): void {
    this.push(end === start ? this.empty() : this.index.codeOfBytes(bytes, start, end));
  }

  /** Adds a row's cell from its text. */
  add(text: string): void {
    this.push(text === '' ? this.empty() : this.index.codeOf(text));
  }

  /** Sets the capacity to at least `capacity` rows. */
  reserve(capacity: number): void {
    if (capacity <= this.codes.length) return;
    const bigger = new Int32Array(capacity);
    bigger.set(this.codes.subarray(0, this.rows));
    this.codes = bigger;
  }

  finish(): CategoryColumn {
    return { feature: this.feature, levels: this.index.levels, codes: this.codes.subarray(0, this.rows), missing: this.missing };
  }

  private empty(): number {
    this.missing++;
    if (this.emptyCode === -1) this.emptyCode = this.index.codeOf('');
    return this.emptyCode;
  }

  private push(code: number): void {
    if (this.rows === this.codes.length) this.reserve(this.codes.length * 2);
    this.codes[this.rows++] = code;
  }
}

/** Builds a column from cell texts (a request's records, a test's rows). */
export function categoryColumn(feature: string, cells: readonly string[]): CategoryColumn {
  const builder = new CategoryBuilder(feature, cells.length);
  for (const cell of cells) builder.add(cell);
  return builder.finish();
}

/** One column holding the rows of `parts` one after the other (levels merged, in order of first appearance). */
export function concatCategories(feature: string, parts: readonly CategoryColumn[]): CategoryColumn {
  const rows = parts.reduce((sum, part) => sum + part.codes.length, 0);
  const levels: string[] = [];
  const place = new Map<string, number>();
  const codes = new Int32Array(rows);
  let offset = 0;
  let missing = 0;
  for (const part of parts) {
    const remap = part.levels.map((level) => {
      let code = place.get(level);
      if (code === undefined) {
        code = levels.push(level) - 1;
        place.set(level, code);
      }
      return code;
    });
    for (let i = 0; i < part.codes.length; i++) codes[offset + i] = remap[part.codes[i]];
    offset += part.codes.length;
    missing += part.missing;
  }
  return { feature, levels, codes, missing };
}
