/**
 * install-cron: installs, replaces or removes the crontab line that runs a
 * fullprocess tick for one config file, on the config's `automation.schedule`
 * (every 10 minutes by default). One line per config file, tagged with the
 * config's absolute path, so the practice and production configs (or two
 * clones) each keep their own line; other crontab lines are never touched.
 *
 *   npm run install-cron -- --config config.production.json          # install or update (idempotent)
 *   npm run install-cron -- --config config.production.json --remove # take out that config's line
 *   npm run install-cron -- --list                                   # this project's lines
 *   npm run install-cron -- --print                                  # show the line, change nothing
 *
 * The config is validated first (exit 2 and the crontab untouched when it is
 * invalid). The line appends the tick's output to a log file, one JSON line per
 * log entry and per tick result (stdout and stderr are files there).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import cron from 'node-cron';
import { parseScriptArguments, printResult, resolveUserPath } from '../src/lib/cli.js';
import { loadConfig } from '../src/lib/config.js';
import { exitCodeOf, messageOf, ServiceError, UserError } from '../src/lib/errors.js';
import { createLogger } from '../src/lib/log.js';

/** What ends every line this script installs; the config's absolute path follows it. */
const MARKER = '# dynamic-risk-assessment fullprocess';
const TAG = `${MARKER} config=`;
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHORTHANDS = ['@reboot', '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Single-quotes a value for the shell. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** What a crontab line runs. */
export interface CronJob {
  schedule: string;
  configFile: string;
  logFile: string;
  /** Defaults to this clone and the node running this script. */
  projectRoot?: string;
  node?: string;
}

/** An installed line of this project. */
export interface InstalledLine {
  config: string;
  schedule: string;
  line: string;
}

/** The crontab line for a job: absolute paths only (cron's PATH and working folder are not the user's). */
export function cronLine({ schedule, configFile, logFile, projectRoot = PROJECT_ROOT, node = process.execPath }: CronJob): string {
  for (const [what, value] of [
    ['config file', configFile],
    ['log file', logFile],
    ['project folder', projectRoot],
    ['node', node],
  ]) {
    // cron turns % into a newline, and a line cannot hold a newline.
    if (/[%\n\r]/.test(value))
      throw new UserError(`the ${what} path ${JSON.stringify(value)} holds "%" or a line break, which a crontab line cannot carry`);
  }
  const script = path.join(projectRoot, 'dist', 'src', 'fullprocess.js');
  return `${schedule} cd ${quote(projectRoot)} && ${quote(node)} ${quote(script)} --config ${quote(configFile)} >> ${quote(logFile)} 2>&1 ${TAG}${configFile}`;
}

/** Throws a usage error unless `schedule` is a five-field cron schedule or a shorthand such as @hourly. */
export function checkSchedule(schedule: string, source: string): string {
  const trimmed = schedule.trim().replace(/\s+/g, ' ');
  const fields = trimmed.split(' ');
  const valid =
    SHORTHANDS.includes(trimmed) || (fields.length === 5 && fields.every((f) => /^[\w*/,-]+$/.test(f)) && cron.validate(trimmed));
  if (!valid) throw new UserError(`${source}: "${schedule}" is not a cron schedule (five fields, e.g. "*/10 * * * *", or @hourly)`);
  return trimmed;
}

/** The config a line of this project runs, or null for any other line. */
function configOfLine(line: string): string | null {
  const tagAt = line.lastIndexOf(TAG);
  if (tagAt !== -1) return line.slice(tagAt + TAG.length);
  // Lines from before the tag named the config only in --config '<path>'.
  if (!line.endsWith(MARKER)) return null;
  const match = /--config '((?:[^']|'\\'')*)'/.exec(line);
  return match ? match[1].replace(/'\\''/g, "'") : null;
}

/** This project's lines in a crontab, whichever clone or config installed them. */
export function installedLines(crontab: string): InstalledLine[] {
  return crontab.split('\n').flatMap((line) => {
    const config = configOfLine(line);
    if (config === null) return [];
    const schedule = line.startsWith('@') ? line.split(' ')[0] : line.split(/\s+/).slice(0, 5).join(' ');
    return [{ config, schedule, line }];
  });
}

/**
 * The crontab with the line of `configFile` set to `line` (replaced where it
 * was, or appended), or removed when `line` is null. Every other line is kept.
 */
export function updateCrontab(existing: string, configFile: string, line: string | null): string {
  const lines = existing.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let placed = false;
  const next = lines.flatMap((current) => {
    if (configOfLine(current) !== configFile) return [current];
    if (line === null || placed) return [];
    placed = true;
    return [line];
  });
  if (line !== null && !placed) next.push(line);
  return next.length > 0 ? next.join('\n') + '\n' : '';
}

/** Runs `crontab` with `args`; throws when the command is missing or fails. */
function crontab(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync('crontab', args, { input, encoding: 'utf8' });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    throw new UserError(
      `the crontab command is not available (${code}); add the line by hand (--print shows it), or run "npm run schedule"`,
    );
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** The user's crontab ('' when there is none). */
function readCrontab(): string {
  const listed = crontab(['-l']);
  if (listed.status === 0) return listed.stdout;
  if (/no crontab/i.test(listed.stderr)) return '';
  throw new ServiceError(`crontab -l failed (exit ${listed.status}): ${listed.stderr.trim()}; nothing was changed`);
}

/** Installs `text` as the crontab, or removes the crontab when `text` is empty. */
function writeCrontab(text: string): void {
  const written = text === '' ? crontab(['-r']) : crontab(['-'], text);
  if (written.status !== 0 && !(text === '' && /no crontab/i.test(written.stderr))) {
    throw new ServiceError(`crontab ${text === '' ? '-r' : '-'} failed (exit ${written.status}): ${written.stderr.trim()}`);
  }
}

interface Options {
  config: string;
  schedule?: string;
  log?: string;
  remove?: boolean;
  list?: boolean;
  print?: boolean;
}

/** What the command does; its result is printed as JSON. */
function run(options: Options, configFile: string): Record<string, unknown> {
  if (options.list) return { lines: installedLines(readCrontab()) };
  if (options.remove) {
    const existing = readCrontab();
    const next = updateCrontab(existing, configFile, null);
    if (next === existing) return { action: 'absent', config: configFile };
    writeCrontab(next);
    return { action: 'removed', config: configFile, crontab_removed: next === '' };
  }
  const config = loadConfig(configFile);
  const schedule = options.schedule
    ? checkSchedule(options.schedule, '--schedule')
    : checkSchedule(config.automation.schedule, `automation.schedule in ${configFile}`);
  const name = path.basename(configFile).replace(/\.json$/i, '');
  const logFile = options.log ? resolveUserPath(options.log) : path.join(config.baseFolder, 'logs', `fullprocess-${name}.log`);
  const line = cronLine({ schedule, configFile, logFile });
  if (options.print) return { action: 'print', config: configFile, schedule, log: logFile, line };
  const existing = readCrontab();
  const next = updateCrontab(existing, configFile, line);
  const before = installedLines(existing).some((installed) => installed.config === configFile);
  const action = next === existing ? 'unchanged' : before ? 'updated' : 'installed';
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  if (action !== 'unchanged') writeCrontab(next);
  return { action, config: configFile, schedule, log: logFile, line };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const program = new Command('install-cron')
    .description('Install, update or remove the crontab line that runs fullprocess for a config on its automation.schedule')
    .option('-c, --config <path>', 'config file for the ticks', 'config.production.json')
    .option('--schedule <cron>', 'cron schedule instead of automation.schedule (e.g. "*/10 * * * *")')
    .option('--log <path>', 'log file the line appends to (default: logs/fullprocess-<config name>.log beside the config)')
    .option('--remove', "remove this config's line (and the crontab when nothing is left)")
    .option('--list', "list this project's installed lines")
    .option('--print', 'print the line without changing the crontab');
  const options = (parseScriptArguments(program) ?? process.exit()).opts<Options>();
  // As for the stages: the default is the clone's own config, a path typed by the user is relative to where npm was started.
  const configFile =
    program.getOptionValueSource('config') === 'default' ? path.join(PROJECT_ROOT, options.config) : resolveUserPath(options.config);
  const log = createLogger('install-cron');
  try {
    printResult(run(options, configFile));
  } catch (error) {
    const exitCode = exitCodeOf(error);
    log.error(messageOf(error));
    printResult({ error: messageOf(error), exit_code: exitCode });
    process.exitCode = exitCode;
  }
}
