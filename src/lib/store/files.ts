/**
 * File-system helpers shared by every stage: atomic writes (temporary file in the
 * same folder, fsync, rename), atomic links, hashing and small JSON readers.
 *
 * Every temporary name carries the writer's process id
 * (`.<target>.tmp-<pid>-<random>`), so whoever writes the same target next
 * removes what a killed writer left, and never what a live one is writing.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { scratchPrefix, temporaryPrefix } from '../layout.js';

/** True while a process with this id runs on this host. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A unique name part owned by this process: `<pid>-<random>`. */
export function ownedSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** The process id in a name made with ownedSuffix after `prefix`, or undefined. */
export function ownerOf(name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const match = /^(\d+)-/.exec(name.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

/**
 * Removes the entries of `folder` named `<prefix><pid>-...` whose process no
 * longer runs: what killed writers left. Best effort: an entry that cannot be
 * removed is left for the next sweep.
 */
export function sweepDeadEntries(folder: string, prefix: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = ownerOf(name, prefix);
    if (pid === undefined || pid === process.pid || isProcessAlive(pid)) continue;
    try {
      fs.rmSync(path.join(folder, name), { recursive: true, force: true });
    } catch {
      // left for the next sweep
    }
  }
}

/**
 * A new scratch folder in the system's temporary folder (`risk-<kind>-<pid>-<random>`),
 * after removing those that killed processes left. The caller removes its own.
 */
export function makeScratchFolder(kind: string): string {
  const prefix = scratchPrefix(kind);
  sweepDeadEntries(os.tmpdir(), prefix);
  const folder = path.join(os.tmpdir(), `${prefix}${ownedSuffix()}`);
  fs.mkdirSync(folder, { mode: 0o700 });
  return folder;
}

/**
 * Name of a new temporary sibling of `target` (dot-prefixed so folder scans
 * skip it, tagged with this process); the temporaries of `target` that killed
 * writers left are removed first, so every writer of a target sweeps it.
 */
function newTemporaryFor(target: string): string {
  const prefix = temporaryPrefix(target);
  sweepDeadEntries(path.dirname(target), prefix);
  return path.join(path.dirname(target), prefix + ownedSuffix());
}

/** Points `link` at `target` atomically (a new link renamed over the old name, whatever it was). */
export function replaceWithLink(link: string, target: string): void {
  const temporary = newTemporaryFor(link);
  fs.symlinkSync(target, temporary);
  try {
    fs.renameSync(temporary, link);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** fsyncs a folder so a rename inside it survives a crash. */
export function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(folder, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on folders; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Writes `content` to `target` atomically: readers see the old file or the whole
 * new one, never a part. The folder must exist.
 */
export function writeFileAtomic(target: string, content: string | Uint8Array | Iterable<string>): void {
  const temporary = newTemporaryFor(target);
  const fd = fs.openSync(temporary, 'w');
  try {
    if (typeof content === 'string' || content instanceof Uint8Array) {
      fs.writeFileSync(fd, content);
    } else {
      writeChunks(fd, content);
    }
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  syncFolder(path.dirname(target));
}

/**
 * Makes each `names` entry of `folder` a link to `<via>/<name>` (relative), so
 * the names always show what `via` points at. Links already right are left alone.
 */
export function ensureLinks(folder: string, names: readonly string[], via: string): void {
  for (const name of names) {
    const link = path.join(folder, name);
    const wanted = path.join(via, name);
    let actual: string | undefined;
    try {
      actual = fs.readlinkSync(link);
    } catch {
      actual = undefined;
    }
    if (actual !== wanted) replaceWithLink(link, wanted);
  }
}

/** Writes string chunks as they come (large CSV outputs stay out of memory). */
function writeChunks(fd: number, chunks: Iterable<string>): void {
  for (const chunk of chunks) if (chunk.length > 0) fs.writeFileSync(fd, chunk);
}

/** Serializes `value` as pretty JSON and writes it atomically. */
export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** SHA-256 of a byte string, hex. */
export function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** SHA-256 of a file's bytes, hex. */
export function sha256File(file: string): string {
  return sha256(fs.readFileSync(file));
}

/**
 * Parses the JSON text of `file`; invalid JSON is a UserError naming `what` and the path.
 * @example parseJsonText('{"a": 1}', 'x.json', 'the ingestion record') // { a: 1 }
 */
export function parseJsonText(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UserError(`${what} ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads and parses a JSON file; a missing or unreadable file or invalid JSON is a UserError naming `what` and the path. */
export function readJsonFile(file: string, what: string): unknown {
  const value = readJsonFileIfExists(file, what);
  if (value === undefined) throw new UserError(`${what} ${file} does not exist`);
  return value;
}

/** Like readJsonFile, but a file that does not exist gives undefined. */
export function readJsonFileIfExists(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new UserError(`cannot read ${what} ${file} (${code ?? (error as Error).message})`, { cause: error });
  }
  return parseJsonText(text, file, what);
}

/** True when `file` exists (any kind). */
export function exists(file: string): boolean {
  return fs.existsSync(file);
}

/** Creates a folder and its parents when missing. */
export function ensureFolder(folder: string): void {
  fs.mkdirSync(folder, { recursive: true });
}

/**
 * A file written piece by piece into a temporary sibling, then renamed into
 * place by `commit()`; `abort()` removes it. Readers never see a partial file.
 */
export class AtomicFileWriter {
  private readonly temporary: string;
  private readonly fd: number;
  /** Bytes not yet written; flushed when full. */
  private readonly pending = Buffer.allocUnsafe(1 << 18);
  private pendingLength = 0;
  private readonly hash = createHash('sha256');
  private done = false;

  constructor(private readonly target: string) {
    this.temporary = newTemporaryFor(target);
    this.fd = fs.openSync(this.temporary, 'w');
  }

  /** Appends text as UTF-8 (buffered). */
  write(text: string): void {
    // At most 3 bytes a UTF-16 unit; a text too large for the buffer is written through.
    if (this.pendingLength + text.length * 3 > this.pending.length) {
      this.flush();
      if (text.length * 3 > this.pending.length) {
        this.writeThrough(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.pendingLength += this.pending.write(text, this.pendingLength, 'utf8');
  }

  /** Appends `bytes[start..end)` (buffered). */
  writeBytes(bytes: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.pendingLength + length > this.pending.length) {
      this.flush();
      if (length > this.pending.length) {
        this.writeThrough(bytes.subarray(start, end));
        return;
      }
    }
    const pending = this.pending;
    let at = this.pendingLength;
    // A native copy costs a call; below some 64 bytes a loop is quicker.
    if (length > 64) {
      pending.set(bytes.subarray(start, end), at);
      at += length;
    } else {
      for (let i = start; i < end; i++) pending[at++] = bytes[i];
    }
    this.pendingLength = at;
  }

  /** Appends one byte (a line feed, say). */
  writeByte(byte: number): void {
    if (this.pendingLength === this.pending.length) this.flush();
    this.pending[this.pendingLength++] = byte;
  }

  private flush(): void {
    if (this.pendingLength === 0) return;
    this.writeThrough(this.pending.subarray(0, this.pendingLength));
    this.pendingLength = 0;
  }

  /** Writes `chunk` now, whole (a write may take part of it), and hashes it. */
  private writeThrough(chunk: Uint8Array): void {
    this.hash.update(chunk);
    let written = 0;
    while (written < chunk.length) written += fs.writeSync(this.fd, chunk, written, chunk.length - written);
  }

  /** Flushes, fsyncs and renames into place; returns the SHA-256 of what was written. */
  commit(): string {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.done = true;
    fs.renameSync(this.temporary, this.target);
    syncFolder(path.dirname(this.target));
    return this.hash.digest('hex');
  }

  /** Discards the temporary file (safe to call after commit). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    fs.rmSync(this.temporary, { force: true });
  }
}
