/**
 * Files that must change together, switched in as one. Ingestion writes three
 * files that describe one merge (the final data, the list of ingested files and
 * the ingestion record); a kill between writing one and the next must not leave
 * them disagreeing. So each published name is a link through one switch:
 *
 *   <folder>/<name> -> .ingestion/current/<name>                 (one link per published name)
 *   <folder>/.ingestion/current -> <generation>                  the one switch, an atomic rename
 *   <folder>/.ingestion/<time>-<pid>-<random>/                    a complete generation
 *   <folder>/.ingestion/.staging-<pid>-<random>/                  one being written
 *
 * A generation is written in a staging folder, fsynced and renamed complete,
 * then `current` is pointed at it; readers resolve the names at open time and
 * see the old set or the new set. Generations and staging folders of processes
 * that no longer run, and generations older than the current one, are removed
 * by the next publish.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureLinks, isProcessAlive, ownedSuffix, ownerOf, replaceWithLink, sweepDeadEntries, syncFolder } from './files.js';

const CURRENT = 'current';
const STAGING = '.staging-';

/** A generation being written; `publish` switches it in, `abort` drops it. */
export class Generation {
  /** Where to write the files of this generation. */
  readonly folder: string;
  private readonly switchFolder: string;
  private done = false;

  /**
   * @param root the folder that shows the published names
   * @param hidden name of the hidden folder that holds the generations (e.g. `.ingestion`)
   * @param names the published file names
   */
  constructor(
    private readonly root: string,
    hidden: string,
    private readonly names: readonly string[],
  ) {
    this.switchFolder = path.join(root, hidden);
    fs.mkdirSync(this.switchFolder, { recursive: true });
    sweepDeadEntries(this.switchFolder, STAGING);
    this.folder = path.join(this.switchFolder, `${STAGING}${ownedSuffix()}`);
    fs.mkdirSync(this.folder);
  }

  /** Makes the written files the published ones, all at once. Every name must have been written. */
  publish(): void {
    for (const name of this.names) {
      if (!fs.existsSync(path.join(this.folder, name))) throw new Error(`generation incomplete: ${name} was not written`);
    }
    syncFolder(this.folder);
    const generation = `${Date.now()}-${ownedSuffix()}`;
    fs.renameSync(this.folder, path.join(this.switchFolder, generation));
    this.done = true;
    syncFolder(this.switchFolder);
    const relativeCurrent = path.join(path.basename(this.switchFolder), CURRENT);
    // The first publish over files of an older layout switches first, then replaces them by links.
    replaceWithLink(path.join(this.switchFolder, CURRENT), generation);
    ensureLinks(this.root, this.names, relativeCurrent);
    syncFolder(this.root);
    this.removeOld(generation);
  }

  /** Drops the staging folder (safe after publish). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    fs.rmSync(this.folder, { recursive: true, force: true });
  }

  /** Removes generations other than `keep` unless a live process other than this one is still publishing them. */
  private removeOld(keep: string): void {
    for (const name of fs.readdirSync(this.switchFolder)) {
      if (name === keep || name === CURRENT || name.startsWith('.')) continue;
      const pid = ownerOf(name.slice(name.indexOf('-') + 1), '');
      if (pid !== undefined && pid !== process.pid && isProcessAlive(pid)) continue;
      fs.rmSync(path.join(this.switchFolder, name), { recursive: true, force: true });
    }
  }
}
