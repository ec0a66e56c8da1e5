/**
 * The configuration: the original five folder keys plus optional sections with
 * defaults. Validated once at start by a zod schema; relative paths resolve
 * against the folder of the config file, so a config works from any directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { asFileSystemError, ConfigError } from './errors.js';

/** Default data schema, as in the original project's files. */
export const DEFAULT_SCHEMA = {
  id_column: 'corporation',
  features: ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'],
  target: 'exited',
} as const;

const folder = z.string().min(1, 'must be a non-empty path');

const schemaSection = z
  .strictObject({
    id_column: z.string().min(1).default(DEFAULT_SCHEMA.id_column),
    features: z
      .array(z.string().min(1))
      .min(1, 'needs at least one feature column')
      .default([...DEFAULT_SCHEMA.features])
      .refine((list) => new Set(list).size === list.length, 'feature names must be unique'),
    target: z.string().min(1).default(DEFAULT_SCHEMA.target),
  })
  .prefault({});

const modelSection = z
  .strictObject({
    objective: z.enum(['standardized', 'liblinear']).default('standardized'),
    C: z.number().positive().finite().default(1.0),
    max_iter: z.int().min(1).max(10_000).default(100),
    tol: z.number().positive().max(1).default(1e-10),
  })
  .prefault({});

const driftSection = z
  .strictObject({
    rule: z.enum(['raw', 'parametric', 'nonparametric']).default('raw'),
    data_drift_trigger: z.boolean().default(false),
    psi_bins: z.int().min(2).max(100).default(10),
    psi_threshold: z.number().positive().default(0.2),
    ks_alpha: z.number().gt(0).lt(1).default(0.05),
  })
  .prefault({});

const automationSection = z
  .strictObject({
    gate: z.boolean().default(true),
    settle_seconds: z.number().min(0).max(3600).default(5),
    lock_stale_seconds: z.number().min(1).max(3600).default(15),
    schedule: z.string().min(1).default('*/10 * * * *'),
  })
  .prefault({});

const apiSection = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.int().min(0).max(65535).default(8000),
    url: z.url().nullable().default(null),
    token: z.string().min(1).nullable().default(null),
    body_limit: z.union([z.int().positive(), z.string().regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)$/i)]).default('5mb'),
    reload_interval_ms: z.int().min(50).max(60_000).default(500),
    workers: z.int().min(1).max(64).default(1),
  })
  .prefault({});

const diagnosticsSection = z
  .strictObject({
    outdated_timeout_ms: z.int().min(100).max(600_000).default(20_000),
    outdated_cache_seconds: z.number().min(0).default(3600),
  })
  .prefault({});

/** The zod schema of a config file. */
export const configFileSchema = z.strictObject({
  input_folder_path: folder,
  output_folder_path: folder,
  test_data_path: folder,
  output_model_path: folder,
  prod_deployment_path: folder,
  schema: schemaSection,
  model: modelSection,
  drift: driftSection,
  automation: automationSection,
  api: apiSection,
  diagnostics: diagnosticsSection,
});

type ConfigFile = z.infer<typeof configFileSchema>;

/** A validated config: every folder is an absolute path. */
export type Config = ConfigFile & {
  /** Absolute path of the config file this came from. */
  configFile: string;
  /** Folder of the config file; relative paths resolved against it. */
  baseFolder: string;
};

export type DataSchema = Config['schema'];
export type ModelSettings = Config['model'];
export type DriftSettings = Config['drift'];

const INPUT_KEYS = ['input_folder_path', 'test_data_path'] as const;
const OUTPUT_KEYS = ['output_folder_path', 'output_model_path', 'prod_deployment_path'] as const;

/**
 * Validates a parsed config object. Pure apart from checking that folders exist
 * (when `checkFolders`). Throws one ConfigError listing every problem.
 */
export function validateConfig(value: unknown, configFile: string, checkFolders = true): Config {
  const absoluteFile = path.resolve(configFile);
  const baseFolder = path.dirname(absoluteFile);
  const parsed = configFileSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      return `  ${key}: ${describeIssue(issue, valueAt(value, issue.path))}`;
    });
    throw new ConfigError(`invalid config ${absoluteFile}:\n${problems.join('\n')}`);
  }
  const config: Config = { ...parsed.data, configFile: absoluteFile, baseFolder };
  for (const key of [...INPUT_KEYS, ...OUTPUT_KEYS]) config[key] = path.resolve(baseFolder, config[key]);
  if (process.env.PORT !== undefined) config.api = { ...config.api, port: parsePort(process.env.PORT) };
  if (process.env.API_TOKEN) config.api = { ...config.api, token: process.env.API_TOKEN };

  const { features, target, id_column } = config.schema;
  if (features.includes(target)) {
    throw new ConfigError(`invalid config ${absoluteFile}:\n  schema.target: "${target}" is also listed in schema.features`);
  }
  if (features.includes(id_column) || id_column === target) {
    throw new ConfigError(`invalid config ${absoluteFile}:\n  schema.id_column: "${id_column}" is also a feature or the target`);
  }
  if (checkFolders) checkConfigFolders(config);
  return config;
}

/** The value at a path of the raw config (undefined when absent). */
function valueAt(value: unknown, keys: PropertyKey[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeIssue(issue: z.core.$ZodIssue, given: unknown): string {
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type') {
    if (given === undefined) return `missing (expected ${issue.expected})`;
    const kind = given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given;
    return `expected ${issue.expected}, got ${kind} ${JSON.stringify(given)?.slice(0, 40)}`;
  }
  return issue.message;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new ConfigError(`PORT: "${text}" is not a port number (0-65535)`);
  return port;
}

function statFolder(folderPath: string): fs.Stats | undefined {
  return fs.statSync(folderPath, { throwIfNoEntry: false });
}

/** The problem with a folder path, in words, or undefined when it is fine. */
function folderProblem(folderPath: string, mustExist: boolean): string | undefined {
  let stat: fs.Stats | undefined;
  try {
    stat = statFolder(folderPath);
  } catch (error) {
    return (asFileSystemError(error)?.message ?? String(error)).replace(/^cannot read /, 'cannot use ');
  }
  if (!stat) return mustExist ? `folder not found: ${folderPath}` : undefined;
  if (!stat.isDirectory()) return `not a folder: ${folderPath}`;
  return undefined;
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (relative !== '..' && !relative.startsWith('..' + path.sep) && !path.isAbsolute(relative));
}

/** The real path of a folder (or of its nearest existing ancestor, with the rest appended). */
function realFolder(folderPath: string): string {
  let existing = folderPath;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(existing), ...rest);
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return folderPath;
      rest.unshift(path.basename(existing));
      existing = parent;
    }
  }
}

/**
 * Input folders must exist; output folders must be folders when they exist
 * (they are created on demand) and lie outside the input folder, whose every
 * *.csv is read as client data.
 */
function checkConfigFolders(config: Config): void {
  const problems: string[] = [];
  for (const key of INPUT_KEYS) {
    const problem = folderProblem(config[key], true);
    if (problem) problems.push(`  ${key}: ${problem}`);
  }
  const input = realFolder(config.input_folder_path);
  for (const key of OUTPUT_KEYS) {
    const problem = folderProblem(config[key], false);
    if (problem) problems.push(`  ${key}: ${problem}`);
    else if (isInside(realFolder(config[key]), input)) {
      problems.push(
        `  ${key}: ${config[key]} is the input folder or inside it (input_folder_path: ${config.input_folder_path}); outputs must live elsewhere`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid config ${config.configFile}:\n${problems.join('\n')}`);
}

/** Reads, parses and validates a config file. */
export function loadConfig(configFile = './config.json'): Config {
  const absoluteFile = path.resolve(configFile);
  let text: string;
  try {
    text = fs.readFileSync(absoluteFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code})`;
    throw new ConfigError(`${reason}: ${absoluteFile}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${absoluteFile} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return validateConfig(value, absoluteFile);
}

/** The same config with its output folders moved under `scratch` (diagnostics timings, dry runs). */
export function withScratchOutputs(config: Config, scratch: string): Config {
  return {
    ...config,
    output_folder_path: path.join(scratch, 'ingesteddata'),
    output_model_path: path.join(scratch, 'models'),
    prod_deployment_path: path.join(scratch, 'production_deployment'),
  };
}
