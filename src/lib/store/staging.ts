/**
 * The one way the store changes a set of files at once, used by the deployment
 * store's versions and by ingestion's generations:
 *
 *   <parent>/.staging-<pid>-<random>/   a set being written (swept by the next writer once its owner is dead)
 *   <parent>/<name>/                    a complete set, renamed into place in one step
 *   <parent>/current -> <name>          the switch: one link, replaced by an atomic rename
 *   <root>/<published> -> <via>/<published>   the names readers open, links through the switch
 *
 * A set is filled under a staging name, fsynced, and renamed complete; then the
 * switch is pointed at it. A reader that resolves the switch once sees one whole
 * set, whatever instant a writer is killed at.
 */
import fs from 'node:fs';
import path from 'node:path';
import { STORE_NAMES } from '../layout.js';
import { ensureLinks, ownedSuffix, replaceWithLink, sweepDeadEntries, syncFolder } from './files.js';

/** A set of files being written in a staging folder of `parent`. */
export class StagedSet {
  /** Where to write the files of the set. */
  readonly folder: string;
  private done = false;

  /** Creates the staging folder, after sweeping those that dead writers left in `parent`. */
  constructor(readonly parent: string) {
    fs.mkdirSync(parent, { recursive: true });
    sweepDeadEntries(parent, STORE_NAMES.stagingPrefix);
    this.folder = path.join(parent, `${STORE_NAMES.stagingPrefix}${ownedSuffix()}`);
    fs.mkdirSync(this.folder);
  }

  /**
   * Renames the complete set to `name` in its parent (fsynced first). Returns
   * false when `name` is taken (a concurrent writer claimed it), so the caller
   * may try another name; the set stays staged.
   */
  tryCommit(name: string): boolean {
    syncFolder(this.folder);
    try {
      fs.renameSync(this.folder, path.join(this.parent, name));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw error;
    }
    this.done = true;
    syncFolder(this.parent);
    return true;
  }

  /** Drops the staging folder (nothing to do after a commit). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}

/**
 * Makes the published names of `root` links through `switchLink` (they dangle
 * until its first switch, so a kill right after a switch cannot leave them
 * missing), then points `switchLink` at `target` atomically.
 */
export function switchTo(root: string, switchLink: string, target: string, published: readonly string[]): void {
  ensureLinks(root, published, path.relative(root, switchLink));
  replaceWithLink(switchLink, target);
  syncFolder(path.dirname(switchLink));
  if (path.dirname(switchLink) !== root) syncFolder(root);
}
