/**
 * install-cron: installs (idempotently) or removes the crontab line that runs
 * a fullprocess tick every 10 minutes, with absolute paths and a log file.
 *
 *   npm run install-cron -- --config config.production.json
 *   npm run install-cron -- --remove
 *   npm run install-cron -- --print      # show the line, change nothing
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { parseScriptArguments } from '../src/lib/cli.js';

const MARKER = '# dynamic-risk-assessment fullprocess';
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Single-quotes a path for the shell. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The crontab line for a config file. */
export function cronLine(schedule: string, configFile: string, logFile: string): string {
  const script = path.join(projectRoot, 'dist', 'src', 'fullprocess.js');
  return `${schedule} cd ${quote(projectRoot)} && ${quote(process.execPath)} ${quote(script)} --config ${quote(configFile)} >> ${quote(logFile)} 2>&1 ${MARKER}`;
}

/** The crontab text with our line replaced (or removed when `line` is null); other lines untouched. */
export function updateCrontab(existing: string, line: string | null): string {
  const kept = existing.split('\n').filter((l) => l !== '' && !l.endsWith(MARKER));
  if (line) kept.push(line);
  return kept.length > 0 ? kept.join('\n') + '\n' : '';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const program = new Command('install-cron')
    .description('Install or remove the crontab line that runs fullprocess every 10 minutes')
    .option('--config <path>', 'config file for the ticks', 'config.production.json')
    .option('--schedule <cron>', 'cron schedule', '*/10 * * * *')
    .option('--log <path>', 'log file (appended)', 'logs/fullprocess.log')
    .option('--remove', 'remove the line')
    .option('--print', 'print the line without changing the crontab');
  const options = parseScriptArguments(program).opts<{
    config: string;
    schedule: string;
    log: string;
    remove?: boolean;
    print?: boolean;
  }>();
  const base = process.env.INIT_CWD ?? process.cwd();
  const configFile = path.resolve(base, options.config);
  const logFile = path.resolve(base, options.log);
  const line = cronLine(options.schedule, configFile, logFile);
  if (options.print) {
    process.stdout.write(line + '\n');
    process.exit(0);
  }
  if (!options.remove && !fs.existsSync(configFile)) {
    console.error(`install-cron: config file not found: ${configFile}`);
    process.exit(2);
  }
  const listed = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
  if (listed.error) {
    console.error(
      `install-cron: the crontab command is not available (${(listed.error as NodeJS.ErrnoException).code}). Add this line by hand, or use "npm run schedule":\n${line}`,
    );
    process.exit(2);
  }
  const existing = listed.status === 0 ? listed.stdout : '';
  if (!options.remove) fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const next = updateCrontab(existing, options.remove ? null : line);
  execFileSync('crontab', ['-'], { input: next });
  process.stdout.write(
    JSON.stringify({ action: options.remove ? 'removed' : 'installed', line: options.remove ? null : line }, null, 2) + '\n',
  );
}
