/**
 * deployment: publishes the trained model, its score and the ingestion record
 * into `prod_deployment_path` as a new numbered version, switched in atomically.
 * `--list` shows the versions; `--rollback [version]` makes an earlier one current.
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { runCommand } from './lib/cli.js';
import type { Config } from './lib/config.js';
import {
  listVersions,
  currentVersion,
  publishVersion,
  rollbackTo,
  versionFolder,
  type VersionRecord,
  type PublishSources,
} from './lib/store/deploy-store.js';
import { BusyError, UserError } from './lib/errors.js';
import { sha256 } from './lib/store/files.js';
import { silentLogger, type Logger } from './lib/log.js';
import { artefactPaths, FILE_NAMES } from './lib/layout.js';
import { isHeld, tryLock, type HeldLock } from './lib/store/lock.js';
import { loadModelFile } from './lib/model/model-file.js';
import { isIngestionRecord, isScoreRecord, readRecordFile } from './lib/store/records.js';

/** Result of a deployment. */
export interface DeploymentResult {
  action: 'deploy';
  version: number;
  previous: number | null;
  record: VersionRecord;
  folder: string;
}

/** Result of `--list`. */
export interface VersionList {
  versions: (VersionRecord & { current: boolean })[];
  current: number | null;
}

/** Result of `--rollback`. */
export interface RollbackResult {
  action: 'rollback';
  version: number;
  previous: number;
}

/** Options of deployment: where the files come from (defaults: the config's output folders). */
export interface DeploymentOptions {
  modelFolder?: string;
  dataFolder?: string;
  origin?: string;
}

/** Publishes the model, score and ingestion record as a new version. */
export async function runDeployment(
  config: Config,
  options: DeploymentOptions = {},
  log: Logger = silentLogger,
): Promise<DeploymentResult> {
  const paths = artefactPaths({
    ...config,
    output_model_path: options.modelFolder ?? config.output_model_path,
    output_folder_path: options.dataFolder ?? config.output_folder_path,
  });
  const required = [
    { name: FILE_NAMES.model, file: paths.model, hint: 'run training first' },
    { name: FILE_NAMES.scoreText, file: paths.scoreText, hint: 'run scoring first' },
    { name: FILE_NAMES.ingestedFiles, file: paths.ingestedFiles, hint: 'run ingestion first' },
    { name: FILE_NAMES.ingestionRecord, file: paths.ingestionRecord, hint: 'run ingestion first' },
  ] as const;
  for (const { file, hint } of required) {
    if (!fs.existsSync(file)) throw new UserError(`cannot deploy: ${file} not found (${hint})`);
  }
  const sources: PublishSources = Object.fromEntries(required.map(({ name, file }) => [name, file]));
  const model = loadModelFile(paths.model);
  const modelSha = sha256(fs.readFileSync(paths.model));
  const scoreText = fs.readFileSync(paths.scoreText, 'utf8').trim();
  const f1 = Number(scoreText);
  if (scoreText === '' || !Number.isFinite(f1)) {
    throw new UserError(`cannot deploy: ${paths.scoreText} does not hold a number ("${scoreText.slice(0, 40)}")`);
  }
  const scoreRecord = readRecordFile(paths.scoreRecord, 'a scoring record', isScoreRecord);
  if (scoreRecord) {
    if (scoreRecord.model_sha256 !== modelSha) {
      throw new UserError(`cannot deploy: ${paths.scoreRecord} scores a different model than ${paths.model} (run scoring again)`);
    }
    if (scoreRecord.f1 !== f1) {
      throw new UserError(
        `cannot deploy: ${paths.scoreText} (${scoreText}) disagrees with ${paths.scoreRecord} (${scoreRecord.f1}) (run scoring again)`,
      );
    }
    sources[FILE_NAMES.scoreRecord] = paths.scoreRecord;
  } else {
    log.warn(`${paths.scoreRecord} not found; deploying ${FILE_NAMES.scoreText} alone`);
  }
  const ingestion = readRecordFile(paths.ingestionRecord, 'an ingestion record', isIngestionRecord);
  const previous = currentVersion(config.prod_deployment_path);
  const record = publishVersion(config.prod_deployment_path, sources, (version) => ({
    version,
    deployed_at: new Date().toISOString(),
    model_sha256: modelSha,
    trained_at: model.training.trained_at,
    objective: model.hyperparameters.objective,
    f1,
    data: {
      files: (ingestion?.files ?? []).map(({ name, sha256: sha, rows_read }) => ({ name, sha256: sha, rows_read })),
      rows: model.training.rows,
    },
    origin: options.origin ?? 'deployment stage',
  }));
  log.info(`deployed version ${record.version} (F1 ${f1})`, { previous });
  return {
    action: 'deploy',
    version: record.version,
    previous,
    record,
    folder: versionFolder(config.prod_deployment_path, record.version),
  };
}

/** Lists every deployed version, marking the current one. */
export function listDeployments(config: Config): VersionList {
  const current = currentVersion(config.prod_deployment_path);
  return { versions: listVersions(config.prod_deployment_path).map((v) => ({ ...v, current: v.version === current })), current };
}

/**
 * Takes the tick lock, so a deployment or rollback never interleaves with a
 * fullprocess tick; a held lock is a BusyError (exit 1).
 */
function holdTickLock(config: Config): HeldLock {
  const lock = tryLock(config.prod_deployment_path, config.automation.lock_stale_seconds);
  if (!isHeld(lock))
    throw new BusyError(`a fullprocess tick or another deployment is running (lock ${lock.reason}); try again when it ends`);
  return lock;
}

/** Rolls back to `version`, or to the previously current version, under the tick lock. */
export function rollbackDeployment(config: Config, version?: number, log: Logger = silentLogger): RollbackResult {
  const lock = holdTickLock(config);
  try {
    const result = rollbackTo(config.prod_deployment_path, version);
    log.info(`version ${result.version} is current again (was ${result.previous})`);
    return { action: 'rollback', ...result };
  } finally {
    lock.release();
  }
}

/** The deployment command: fullprocess calls runDeployment while it holds the lock, the command takes it here. */
async function deployUnderLock(config: Config, log: Logger): Promise<DeploymentResult> {
  const lock = holdTickLock(config);
  try {
    return await runDeployment(config, {}, log);
  } finally {
    lock.release();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ list?: boolean; rollback?: string | true }>({
    name: 'deployment',
    description: `Publish ${FILE_NAMES.model}, ${FILE_NAMES.scoreText}, ${FILE_NAMES.ingestedFiles} and the ingestion record as a new production version`,
    options: (program) =>
      program
        .option('--list', 'print every deployed version as JSON')
        .option('--rollback [version]', 'make an earlier version current (default: the one current before)'),
    run: async (config, options, log) => {
      if (options.list && options.rollback !== undefined) throw new UserError('--list and --rollback cannot be combined');
      if (options.list) return listDeployments(config);
      if (options.rollback !== undefined) {
        if (options.rollback === true) return rollbackDeployment(config, undefined, log);
        if (!/^[1-9]\d*$/.test(options.rollback)) throw new UserError(`--rollback: "${options.rollback}" is not a version number`);
        return rollbackDeployment(config, Number(options.rollback), log);
      }
      return deployUnderLock(config, log);
    },
  });
}
