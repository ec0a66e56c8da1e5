/**
 * Structured logging to stderr (stdout is reserved for results). One JSON object
 * a line when stderr is not a terminal (cron, CI), a short readable line when it
 * is. A JSON line carries `time`, `level`, `pid` (which worker, under --workers),
 * `component`, `msg` and the entry's own fields. `LOG_LEVEL` (debug, info, warn, error, silent) and `LOG_FORMAT` (json, text)
 * override the defaults.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A logger bound to a component name. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

function threshold(): number {
  const level = (process.env.LOG_LEVEL ?? 'info').toLowerCase() as LogLevel | 'silent';
  return ORDER[level] ?? ORDER.info;
}

function useJson(): boolean {
  const format = process.env.LOG_FORMAT?.toLowerCase();
  if (format === 'json') return true;
  if (format === 'text') return false;
  return !process.stderr.isTTY;
}

/** Creates a logger writing to stderr for the given component; LOG_LEVEL and LOG_FORMAT are read now (the API logs every request). */
export function createLogger(component: string): Logger {
  const minimum = threshold();
  const json = useJson();
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < minimum) return;
    const time = new Date().toISOString();
    let line: string;
    if (json) {
      line = JSON.stringify({ time, level, pid: process.pid, component, msg: message, ...fields });
    } else {
      const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
      line = `${time.slice(11, 19)} ${level.padEnd(5)} [${component}] ${message}${extra}`;
    }
    process.stderr.write(line + '\n');
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (name) => createLogger(`${component}:${name}`),
  };
}

/** A logger that drops everything (for tests and nested runs). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
