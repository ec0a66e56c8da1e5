/** The API's two caches: values computed from a file, and one shared run of a slow computation. */
import fs from 'node:fs';
import path from 'node:path';
import { UnavailableError, UserError } from '../errors.js';

/**
 * Caches a value computed from a file (and an argument, keyed by `argKey`)
 * until the file's size, mtime or inode or the key changes. A missing or
 * invalid file is the server's state, not the caller's mistake: 503 (with `missingHint`).
 */
export function fileCache<T, A = undefined>(
  compute: (file: string, arg: A) => T,
  missingHint: string,
): (file: string, arg: A, argKey?: string) => T {
  let key = '';
  let value: T | undefined;
  return (file, arg, argKey = '') => {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat) throw new UnavailableError(`${path.basename(file)} not found (${missingHint})`);
    const nextKey = `${stat.size}:${stat.mtimeMs}:${stat.ino}:${argKey}`;
    if (nextKey !== key || value === undefined) {
      try {
        value = compute(file, arg);
      } catch (error) {
        // Bad data on the server is not the caller's mistake: 503 with the reason, not a 400.
        if (error instanceof UserError && !(error instanceof UnavailableError)) throw new UnavailableError(error.message, { cause: error });
        throw error;
      }
      key = nextKey;
    }
    return value;
  };
}

/**
 * Shares one run of `compute` between concurrent callers and reuses its result
 * for `maxAgeMs(result)`. With `serveStale`, an expired result is still
 * answered at once while a refresh runs; only the very first call waits.
 */
export function sharedResult<T>(compute: () => Promise<T>, maxAgeMs: (value: T) => number, serveStale = false): () => Promise<T> {
  let cached: { value: T; at: number } | undefined;
  let running: Promise<T> | undefined;
  return () => {
    if (cached && Date.now() - cached.at < maxAgeMs(cached.value)) return Promise.resolve(cached.value);
    running ??= compute()
      .then((value) => {
        cached = { value, at: Date.now() };
        return value;
      })
      .finally(() => {
        running = undefined;
      });
    return serveStale && cached ? Promise.resolve(cached.value) : running;
  };
}
