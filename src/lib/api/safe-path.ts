/**
 * Resolves a user-supplied file location safely: it must lie inside one of the
 * allowed folders, both as written (no `..` escape, no absolute path elsewhere)
 * and after following links. Checked before anything is read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ForbiddenError, NotFoundError, UserError } from '../errors.js';

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  // `..name` is a file inside; only `..` itself or `../...` leaves.
  return relative === '' || (relative !== '..' && !relative.startsWith('..' + path.sep) && !path.isAbsolute(relative));
}

/**
 * Returns the real path of `location` (relative to `base`) when it is a file
 * inside one of `allowedFolders`. `field` names where the caller gave it in
 * messages (a JSON key, a query parameter). Errors never echo the resolved server path.
 */
export function resolveInsideFolders(location: unknown, base: string, allowedFolders: string[], field = '"file_location"'): string {
  if (typeof location !== 'string' || location.trim() === '') throw new UserError(`${field} must be a non-empty string`);
  if (location.includes('\0')) throw new UserError(`${field} contains a NUL character`);
  const requested = path.resolve(base, location);
  if (!allowedFolders.some((folder) => isInside(requested, folder))) {
    throw new ForbiddenError(`${field} must lie inside the input, ingested or test data folders`);
  }
  let real: string;
  try {
    real = fs.realpathSync(requested);
  } catch {
    throw new NotFoundError(`${field} ${JSON.stringify(location)} does not exist`);
  }
  const realFolders = allowedFolders.flatMap((folder) => {
    try {
      return [fs.realpathSync(folder)];
    } catch {
      return [];
    }
  });
  if (!realFolders.some((folder) => isInside(real, folder))) {
    throw new ForbiddenError(`${field} leads outside the input, ingested or test data folders`);
  }
  if (!fs.statSync(real).isFile()) throw new UserError(`${field} ${JSON.stringify(location)} is not a file`);
  return real;
}
