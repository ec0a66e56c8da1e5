/** The API's two caches: values computed from a file, and one shared run of a slow computation. */
import fs from 'node:fs';
import path from 'node:path';
import { UnavailableError, UserError } from '../errors.js';

/**
 * Caches a value computed from a file (and an argument, keyed by `argKey`)
 * until the file's size, mtime or inode or the key changes. A missing or
 * invalid file is the server's state, not the caller's mistake: 503 (with `missingHint`).
 * A computation that answers a promise (work on another thread) is shared by
 * the callers that come while it runs; a rejected one is not kept.
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
      let computed: T;
      try {
        computed = compute(file, arg);
      } catch (error) {
        throw asUnavailable(error);
      }
      if (computed instanceof Promise) {
        const pending: T = computed.catch((error: unknown) => {
          if (value === pending) value = undefined;
          throw asUnavailable(error);
        }) as T;
        computed = pending;
      }
      value = computed;
      key = nextKey;
    }
    return value;
  };
}

/** Bad data on the server is not the caller's mistake: a 503 with the reason, not a 400. */
function asUnavailable(error: unknown): unknown {
  if (error instanceof UserError && !(error instanceof UnavailableError)) return new UnavailableError(error.message, { cause: error });
  return error;
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
