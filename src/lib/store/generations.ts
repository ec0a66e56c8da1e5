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
 * by the next publish. The staging and the switch are store/staging.ts's, the
 * names layout.ts's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generationName, STORE_NAMES } from '../layout.js';
import { isProcessAlive, ownedSuffix, ownerOf } from './files.js';
import { StagedSet, switchTo } from './staging.js';

/** A generation being written; `publish` switches it in, `abort` drops it. */
export class Generation {
  /** Where to write the files of this generation. */
  readonly folder: string;
  private readonly switchFolder: string;
  private readonly staged: StagedSet;

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
    this.staged = new StagedSet(this.switchFolder);
    this.folder = this.staged.folder;
  }

  /** Makes the written files the published ones, all at once. Every name must have been written. */
  publish(): void {
    for (const name of this.names) {
      if (!fs.existsSync(path.join(this.folder, name))) throw new Error(`generation incomplete: ${name} was not written`);
    }
    const generation = generationName(ownedSuffix());
    if (!this.staged.tryCommit(generation)) throw new Error(`generation ${generation} already exists in ${this.switchFolder}`);
    switchTo(this.root, path.join(this.switchFolder, STORE_NAMES.current), generation, this.names);
    this.removeOld(generation);
  }

  /** Drops the staging folder (safe after publish). */
  abort(): void {
    this.staged.abort();
  }

  /** Removes generations other than `keep` unless a live process other than this one is still publishing them. */
  private removeOld(keep: string): void {
    for (const name of fs.readdirSync(this.switchFolder)) {
      if (name === keep || name === STORE_NAMES.current || name.startsWith('.')) continue;
      const pid = ownerOf(name.slice(name.indexOf('-') + 1), '');
      if (pid !== undefined && pid !== process.pid && isProcessAlive(pid)) continue;
      fs.rmSync(path.join(this.switchFolder, name), { recursive: true, force: true });
    }
  }
}
