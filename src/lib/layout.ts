/**
 * Where every artefact lives. Each file name is spelled here and nowhere else
 * in `src/`; every stage, the API and the report ask this module for paths.
 *
 *   input_folder_path/      *.csv                    client files (read only)
 *   test_data_path/         testdata.csv             labelled hold-out data
 *   output_folder_path/     finaldata.csv            merged, deduplicated rows
 *                           ingestedfiles.txt        one file name a line (as the original)
 *                           ingestionrecord.json     per-file size, SHA-256, rows; totals
 *                           .ingestion/              the three above are links into one generation (store/generations.ts)
 *   output_model_path/      trainedmodel.json        the fitted model
 *                           latestscore.txt          F1 on the test data (as the original)
 *                           latestscore.json         every metric of that scoring
 *                           diagnostics.json         summary, missing data, timings, dependencies
 *                           riskscores.csv           the call list
 *                           report.pdf, confusionmatrix.png, apireturns.txt
 *   prod_deployment_path/   versions/<n>/, current   the deployment store (store/deploy-store.ts): STORE_NAMES
 *                           deployment.json          a version's record, in each versions/<n>/
 *                           deployments.jsonl        every switch (deploy or rollback)
 *                           runhistory.jsonl         one record a tick
 *                           checkedfiles.json        files earlier ticks judged, hash cache
 *                           fullprocess.lock         the tick lock
 */
import path from 'node:path';
import type { Config } from './config.js';

/** File names of the artefacts. */
export const FILE_NAMES = {
  finalData: 'finaldata.csv',
  ingestedFiles: 'ingestedfiles.txt',
  ingestionRecord: 'ingestionrecord.json',
  /** Hidden folder under output_folder_path holding the generations of the three ingestion outputs. */
  ingestionGenerations: '.ingestion',
  testData: 'testdata.csv',
  model: 'trainedmodel.json',
  scoreText: 'latestscore.txt',
  scoreRecord: 'latestscore.json',
  diagnostics: 'diagnostics.json',
  dependencyCache: '.dependencies-cache.json',
  report: 'report.pdf',
  confusionMatrix: 'confusionmatrix.png',
  apiReturns: 'apireturns.txt',
  riskScores: 'riskscores.csv',
  runHistory: 'runhistory.jsonl',
  checkedFiles: 'checkedfiles.json',
  lock: 'fullprocess.lock',
} as const;

/**
 * Names inside the deployment store and the ingestion generations: both are a
 * folder of complete sets switched by one `current` link (store/staging.ts).
 */
export const STORE_NAMES = {
  /** Folder of the deployment store holding one folder per version. */
  versions: 'versions',
  /** The one link that says which version (or generation) is live. */
  current: 'current',
  /** A version's record, inside each version folder and linked at the store's top level. */
  versionRecord: 'deployment.json',
  /** Every switch of the deployment store (deploy or rollback), appended. */
  switchLog: 'deployments.jsonl',
  /** Prefix of a set being written (followed by its owner's pid and a random tag). */
  stagingPrefix: '.staging-',
} as const;

/** Name of a new ingestion generation: its creation time, then its owner (`<ms>-<pid>-<random>`). */
export function generationName(owner: string): string {
  return `${Date.now()}-${owner}`;
}

/** Prefix of the temporary siblings of a file written atomically (dot-prefixed, so folder scans skip them). */
export function temporaryPrefix(target: string): string {
  return `.${path.basename(target)}.tmp-`;
}

/** Prefix of a stage's scratch folder in the system's temporary folder. */
export function scratchPrefix(kind: string): string {
  return `risk-${kind}-`;
}

/** The files a deployment publishes, under these names, in every version folder and at the store's top level. */
export const PUBLISHED_FILES = [
  FILE_NAMES.model,
  FILE_NAMES.scoreText,
  FILE_NAMES.scoreRecord,
  FILE_NAMES.ingestedFiles,
  FILE_NAMES.ingestionRecord,
] as const;

/** One of the published file names. */
export type PublishedFile = (typeof PUBLISHED_FILES)[number];

type Folders = Pick<Config, 'output_folder_path' | 'test_data_path' | 'output_model_path' | 'prod_deployment_path'>;

/** Absolute paths of every artefact of a config. */
export interface ArtefactPaths {
  finalData: string;
  ingestedFiles: string;
  ingestionRecord: string;
  testData: string;
  model: string;
  scoreText: string;
  scoreRecord: string;
  diagnostics: string;
  dependencyCache: string;
  report: string;
  confusionMatrix: string;
  apiReturns: string;
  riskScores: string;
  runHistory: string;
  checkedFiles: string;
  lock: string;
}

/** The artefact paths of a config (or of any object holding its folders, e.g. a scratch copy). */
export function artefactPaths(folders: Folders): ArtefactPaths {
  const data = (name: string): string => path.join(folders.output_folder_path, name);
  const models = (name: string): string => path.join(folders.output_model_path, name);
  const store = (name: string): string => path.join(folders.prod_deployment_path, name);
  return {
    finalData: data(FILE_NAMES.finalData),
    ingestedFiles: data(FILE_NAMES.ingestedFiles),
    ingestionRecord: data(FILE_NAMES.ingestionRecord),
    testData: path.join(folders.test_data_path, FILE_NAMES.testData),
    model: models(FILE_NAMES.model),
    scoreText: models(FILE_NAMES.scoreText),
    scoreRecord: models(FILE_NAMES.scoreRecord),
    diagnostics: models(FILE_NAMES.diagnostics),
    dependencyCache: models(FILE_NAMES.dependencyCache),
    report: models(FILE_NAMES.report),
    confusionMatrix: models(FILE_NAMES.confusionMatrix),
    apiReturns: models(FILE_NAMES.apiReturns),
    riskScores: models(FILE_NAMES.riskScores),
    runHistory: store(FILE_NAMES.runHistory),
    checkedFiles: store(FILE_NAMES.checkedFiles),
    lock: store(FILE_NAMES.lock),
  };
}

/** Path of a published file inside a deployed version's folder. */
export function deployedFile(versionFolder: string, name: PublishedFile): string {
  return path.join(versionFolder, name);
}
