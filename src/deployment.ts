/**
 * deployment: publishes the trained model, its score and the ingestion record
 * into `prod_deployment_path` as a new numbered version, switched in atomically.
 * `--list` shows the versions; `--rollback [version]` makes an earlier one current.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from './lib/cli.js';
import type { Config } from './lib/config.js';
import {
  listVersions,
  currentVersion,
  publishVersion,
  rollbackTo,
  readSwitchLog,
  type VersionRecord,
  type PublishSources,
} from './lib/deploy-store.js';
import { UserError } from './lib/errors.js';
import { readJsonIfExists, sha256 } from './lib/files.js';
import { silentLogger, type Logger } from './lib/log.js';
import { loadModelFile } from './lib/model.js';
import { INGESTED_FILES, INGESTION_RECORD, type IngestionRecord } from './ingestion.js';
import { SCORE_RECORD, SCORE_TEXT, type ScoringResult } from './scoring.js';
import { MODEL_FILE } from './training.js';

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
  const modelFolder = options.modelFolder ?? config.output_model_path;
  const dataFolder = options.dataFolder ?? config.output_folder_path;
  const sources: PublishSources = {
    'trainedmodel.json': path.join(modelFolder, MODEL_FILE),
    'latestscore.txt': path.join(modelFolder, SCORE_TEXT),
    'ingestedfiles.txt': path.join(dataFolder, INGESTED_FILES),
    'ingestionrecord.json': path.join(dataFolder, INGESTION_RECORD),
  };
  const hints: Record<string, string> = {
    'trainedmodel.json': 'run training first',
    'latestscore.txt': 'run scoring first',
    'ingestedfiles.txt': 'run ingestion first',
    'ingestionrecord.json': 'run ingestion first',
  };
  for (const [name, file] of Object.entries(sources)) {
    if (!fs.existsSync(file!)) throw new UserError(`cannot deploy: ${file} not found (${hints[name]})`);
  }
  const model = loadModelFile(sources['trainedmodel.json']!);
  const modelSha = sha256(fs.readFileSync(sources['trainedmodel.json']!));
  const scoreText = fs.readFileSync(sources['latestscore.txt']!, 'utf8').trim();
  const f1 = Number(scoreText);
  if (scoreText === '' || !Number.isFinite(f1))
    throw new UserError(`cannot deploy: ${sources['latestscore.txt']} does not hold a number ("${scoreText.slice(0, 40)}")`);
  const scoreRecordFile = path.join(modelFolder, SCORE_RECORD);
  const scoreRecord = readJsonIfExists(scoreRecordFile) as ScoringResult | undefined;
  if (scoreRecord) {
    if (scoreRecord.model_sha256 !== modelSha) {
      throw new UserError(
        `cannot deploy: ${scoreRecordFile} scores a different model than ${sources['trainedmodel.json']} (run scoring again)`,
      );
    }
    if (scoreRecord.f1 !== f1) {
      throw new UserError(
        `cannot deploy: ${sources['latestscore.txt']} (${scoreText}) disagrees with ${scoreRecordFile} (${scoreRecord.f1}) (run scoring again)`,
      );
    }
    sources['latestscore.json'] = scoreRecordFile;
  } else {
    log.warn(`${scoreRecordFile} not found; deploying latestscore.txt alone`);
  }
  const ingestion = readJsonIfExists(sources['ingestionrecord.json']!) as IngestionRecord;
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
    folder: path.join(config.prod_deployment_path, 'versions', String(record.version)),
  };
}

/** Lists every deployed version, marking the current one. */
export function listDeployments(config: Config): VersionList {
  const current = currentVersion(config.prod_deployment_path);
  return { versions: listVersions(config.prod_deployment_path).map((v) => ({ ...v, current: v.version === current })), current };
}

/** Rolls back to `version`, or to the previously current version. */
export function rollbackDeployment(config: Config, version?: number, log: Logger = silentLogger): RollbackResult {
  const result = rollbackTo(config.prod_deployment_path, version);
  log.info(`version ${result.version} is current again (was ${result.previous})`);
  return { action: 'rollback', ...result };
}

/** History of switches (deploys and rollbacks), oldest first. */
export { readSwitchLog };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ list?: boolean; rollback?: string | true }>({
    name: 'deployment',
    description: 'Publish trainedmodel.json, latestscore.txt, ingestedfiles.txt and the ingestion record as a new production version',
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
      return runDeployment(config, {}, log);
    },
  });
}
