/** The input folder: which of its entries are client files. */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

/** Lists the `*.csv` files of a folder, sorted by name; hidden files and sub-folders are skipped. */
export function listCsvFiles(folder: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    throw new UserError(`cannot read input folder ${folder}: ${(error as NodeJS.ErrnoException).code}`, { cause: error });
  }
  return entries
    .filter((entry) => !entry.name.startsWith('.') && entry.name.toLowerCase().endsWith('.csv'))
    .filter(
      (entry) =>
        entry.isFile() || (entry.isSymbolicLink() && fs.statSync(path.join(folder, entry.name), { throwIfNoEntry: false })?.isFile()),
    )
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
