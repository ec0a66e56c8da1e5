/**
 * Keeps the deployed model in memory and follows deployments: it polls the
 * store's deployment fingerprint (one readlink and two stats, cheap) and, when
 * it changes, loads the new deployment completely before swapping it in. The
 * fingerprint changes with any change of the live deployment (a switch, a
 * rollback, a store deleted and rebuilt under the same numbers). Requests that
 * already hold the old model finish with it, so a switch drops nothing.
 *
 * Readiness says whether the served version is the deployed one. A redeploy
 * leaves them apart for one poll and a load (well under the 2 s pickup); only a
 * gap longer than the grace (2 s, or four polls if longer) is reported, so probes
 * do not flap on every redeploy, while a version the API cannot load takes the
 * replica out of the pool within seconds.
 */
import { deploymentFingerprint, readCurrentDeployment, type VersionRecord } from '../store/deploy-store.js';
import { messageOf, UnavailableError } from '../errors.js';
import { deployedFile, FILE_NAMES } from '../layout.js';
import { silentLogger, type Logger } from '../log.js';
import { loadModelFile, type ModelFile } from '../model/model-file.js';

/** The model being served. */
export interface ServedModel {
  version: number;
  model: ModelFile;
  record: VersionRecord;
  loadedAt: string;
  /** The deployment fingerprint this was loaded for: caches of per-model answers key on it. */
  fingerprint: string;
}

/** What readiness probes answer. */
export type Readiness =
  { ready: true; served: ServedModel } | { ready: false; served: ServedModel | null; deployedVersion: number | null; reason: string };

/** Follows the deployment store; see the module comment. */
export class ModelWatcher {
  private served: ServedModel | null = null;
  /** The version current in the store at the newest poll, and since when (ms) the served one differs. */
  private deployedVersion: number | null = null;
  private apartSince: number | null = null;
  private intervalMs = 500;
  private lastError: string | null = null;
  private failedLoads = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((model: ServedModel) => void)[] = [];

  constructor(
    private readonly store: string,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Checks the store now and loads the live deployment when it changed. */
  refresh(now: number = Date.now()): ServedModel | null {
    const served = this.poll();
    const apart = served !== null && this.deployedVersion !== null && served.version !== this.deployedVersion;
    if (!apart) this.apartSince = null;
    else this.apartSince ??= now;
    return served;
  }

  private poll(): ServedModel | null {
    let fingerprint: string | null;
    try {
      fingerprint = deploymentFingerprint(this.store);
    } catch (error) {
      this.lastError = `cannot read ${this.store}: ${messageOf(error)}`;
      return this.served;
    }
    this.deployedVersion = fingerprint === null ? null : Number(fingerprint.split('|')[0]);
    if (fingerprint === null) {
      if (this.served !== null) this.log.warn(`the deployment of version ${this.served.version} was removed; no model is served`);
      this.served = null;
      this.lastError = `no model is deployed in ${this.store} (run deployment, or fullprocess to bootstrap one)`;
      return this.served;
    }
    if (this.served?.fingerprint === fingerprint) return this.served;
    const version = Number(fingerprint.split('|')[0]);
    try {
      const current = readCurrentDeployment(this.store);
      if (!current) return this.served;
      const model = loadModelFile(deployedFile(current.folder, FILE_NAMES.model));
      const next: ServedModel = {
        version: current.version,
        model,
        record: current.record,
        loadedAt: new Date().toISOString(),
        fingerprint,
      };
      const previous = this.served?.version ?? null;
      this.served = next;
      this.lastError = null;
      this.log.info(`serving model version ${next.version}`, { previous });
      for (const listener of this.listeners) listener(next);
    } catch (error) {
      // Keep serving the previous version; try again on the next poll, but say so once, not every poll.
      const message = `cannot load deployed version ${version}: ${messageOf(error)}`;
      this.failedLoads++;
      if (message !== this.lastError) this.log.error(message);
      this.lastError = message;
    }
    return this.served;
  }

  /** Starts polling every `intervalMs` (the timer does not keep the process alive). */
  start(intervalMs: number): this {
    this.intervalMs = intervalMs;
    this.refresh();
    this.timer = setInterval(() => this.refresh(), intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Calls `listener` after each switch to a new version. */
  onSwitch(listener: (model: ServedModel) => void): void {
    this.listeners.push(listener);
  }

  /** The served model, or null. */
  current(): ServedModel | null {
    return this.served;
  }

  /** The served model; throws a 503 error naming the reason when there is none. */
  require(): ServedModel {
    if (this.served) return this.served;
    throw new UnavailableError(this.lastError ?? `no model is deployed in ${this.store}`);
  }

  /** Failed attempts to load a deployed version since this watcher was made (one a poll while it fails). */
  loadFailures(): number {
    return this.failedLoads;
  }

  /**
   * Ready when a model is served and it is the deployed version, or has differed
   * from it for less than the grace (a redeploy being picked up).
   */
  readiness(now: number = Date.now()): Readiness {
    const served = this.served;
    if (!served) return { ready: false, served, deployedVersion: this.deployedVersion, reason: this.unavailableReason()! };
    const grace = Math.max(2000, 4 * this.intervalMs);
    if (this.apartSince === null || now - this.apartSince < grace) return { ready: true, served };
    const why = this.lastError ?? `version ${this.deployedVersion} is not loaded yet`;
    return {
      ready: false,
      served,
      deployedVersion: this.deployedVersion,
      reason: `serving version ${served.version}, but version ${this.deployedVersion} is deployed: ${why}`,
    };
  }

  /** Why no model is served (null when one is). */
  unavailableReason(): string | null {
    return this.served ? null : (this.lastError ?? `no model is deployed in ${this.store}`);
  }
}
