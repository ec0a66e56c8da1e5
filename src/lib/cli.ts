/**
 * The one command-line wrapper every entry script uses: declares `--config`,
 * loads the config once, awaits the stage, prints its result as one JSON object
 * on stdout and turns errors into exit codes (0 ok, 1 unexpected, 2 usage/config/data).
 * The result is indented on a terminal and one line otherwise, so a log that
 * collects stdout and stderr (cron's) is JSON lines throughout.
 */
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadConfig, type Config } from './config.js';
import { exitCodeOf, isExpected, messageOf, UserError } from './errors.js';
import { createLogger, type Logger } from './log.js';

/** What a stage's command-line wrapper declares. */
export interface CommandSpec<Options> {
  name: string;
  description: string;
  /** Adds the stage's own options to the commander program. */
  options?: (program: Command) => void;
  /** Runs the stage; its return value is printed as JSON. */
  run: (config: Config, options: Options, log: Logger) => Promise<unknown>;
  /** Exit code for a result (default 0). */
  exitCodeFor?: (result: unknown) => number;
  /** Print nothing on stdout (cluster workers). */
  quiet?: boolean;
}

/**
 * Parses argv for a plain script (not a stage). Null when the script should
 * stop at once, with `process.exitCode` set as for the stages: 2 for a usage
 * mistake (commander has printed the reason), 0 after --help.
 */
export function parseScriptArguments(program: Command, argv = process.argv): Command | null {
  program.exitOverride();
  try {
    return program.parse(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return null;
  }
}

/** Writes a command's result: indented JSON on a terminal, one JSON line otherwise (files, pipes, cron). */
export function printResult(value: unknown, stream: NodeJS.WriteStream = process.stdout): void {
  stream.write((stream.isTTY ? JSON.stringify(value, null, 2) : JSON.stringify(value)) + '\n');
}

/** Resolves a path typed by the user against the folder npm was started from. */
export function resolveUserPath(input: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), input);
}

/** Parses argv, runs the stage and sets `process.exitCode`. */
export async function runCommand<Options extends object>(spec: CommandSpec<Options>, argv = process.argv): Promise<void> {
  const log = createLogger(spec.name);
  const program = new Command(spec.name)
    .description(spec.description)
    .option('-c, --config <path>', 'config file (relative paths inside it resolve against its folder)', './config.json')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError('(use --help for the options)');
  spec.options?.(program);
  let result: unknown;
  try {
    try {
      program.parse(argv);
    } catch (error) {
      if (error instanceof CommanderError) {
        // --help and --version exit 0; usage mistakes exit 2 (commander already printed why).
        process.exitCode = error.exitCode === 0 ? 0 : 2;
        return;
      }
      throw error;
    }
    const options = program.opts<Options & { config: string }>();
    const configPath =
      program.getOptionValueSource('config') === 'default' ? path.resolve(options.config) : resolveUserPath(options.config);
    const config = loadConfig(configPath);
    result = await spec.run(config, options, log);
    if (!spec.quiet) printResult(result);
    process.exitCode = spec.exitCodeFor?.(result) ?? 0;
  } catch (error) {
    const exitCode = exitCodeOf(error);
    if (isExpected(error)) log.error(messageOf(error));
    else log.error(`unexpected failure: ${messageOf(error)}`, { stack: (error as Error)?.stack });
    printResult({ error: messageOf(error), exit_code: exitCode });
    process.exitCode = exitCode;
  }
}

/** Parses an option value as a TCP port (0-65535) or throws a usage error naming the option. */
export function parsePortOption(name: string) {
  return (value: string): number => {
    const port = parseIntegerOption(name)(value);
    if (port > 65535) throw new UserError(`${name}: ${value} is not a port number (0-65535)`);
    return port;
  };
}

/** Parses an option value as a non-negative integer or throws a usage error naming the option. */
export function parseIntegerOption(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new UserError(`${name}: "${value}" is not a non-negative integer`);
    return Number(value);
  };
}
