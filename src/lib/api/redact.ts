/** Keeps the server's absolute paths out of HTTP answers (logs keep them). */
import fs from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config.js';
import { PROJECT_ROOT } from '../project.js';

/** Turns a text meant for an HTTP answer into one without absolute server paths. */
export type Redactor = (text: string) => string;

/**
 * Rewrites the server's absolute paths in a message: the config's folders
 * become their names relative to the config file, other absolute paths their
 * last component.
 */
export function pathRedactor(config: Config): Redactor {
  const base = config.baseFolder;
  const pairs = new Map<string, string>();
  const add = (absolute: string, shown: string): void => {
    pairs.set(absolute, shown);
    try {
      pairs.set(fs.realpathSync(absolute), shown);
    } catch {
      // A folder that does not exist yet can only appear as written.
    }
  };
  const folders = [
    config.input_folder_path,
    config.output_folder_path,
    config.test_data_path,
    config.output_model_path,
    config.prod_deployment_path,
  ];
  for (const folder of folders) {
    const relative = path.relative(base, folder);
    const outside = relative === '..' || relative.startsWith('..' + path.sep) || path.isAbsolute(relative);
    add(folder, relative === '' ? '.' : outside ? path.basename(folder) : relative);
  }
  add(config.configFile, path.basename(config.configFile));
  add(base, '.');
  add(PROJECT_ROOT, '.');
  const known = [...pairs].filter(([absolute]) => absolute.length > 1).sort((a, b) => b[0].length - a[0].length);
  // Whatever absolute path is left (a scratch folder, a home folder): keep only its last component.
  const leftover = /(?<![\w.~-])\/(?:[^\s"'`()<>,;:/]+\/)+([^\s"'`()<>,;:/]*)/g;
  return (text) => {
    let out = text;
    for (const [absolute, shown] of known) out = out.split(absolute).join(shown);
    return out.replace(leftover, (_match, last: string) => last || '.');
  };
}

/**
 * A redactor that leaves `kept` (the request's own path, which looks like a
 * file path) as it is wherever it stands as a word of its own, and redacts the
 * rest: `PUT /health/live` is not "allowed on live".
 */
export function keeping(redact: Redactor, kept: string): Redactor {
  if (!kept.startsWith('/') || kept === '/') return redact;
  const escaped = kept.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const standalone = new RegExp(`(?<=^|[\\s"'(])${escaped}(?=$|[\\s"'),])`, 'g');
  return (text) => text.split(standalone).map(redact).join(kept);
}

/** A copy of a JSON value with every string redacted (numbers, arrays of numbers and the rest pass as they are). */
export function redactDeep(value: unknown, redact: Redactor): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) {
    // Answers carry long arrays of numbers (predictions): leave those untouched and uncopied.
    if (value.every((item) => typeof item === 'number')) return value;
    return value.map((item) => redactDeep(item, redact));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, redact)]));
  }
  return value;
}

/**
 * Middleware: every JSON answer goes out without absolute server paths, whichever
 * route made it and whatever records it repeats (run history, drift, errors).
 * `verbatim` paths serve documents of the API's own making (the OpenAPI
 * document, whose JSON pointers and route paths look like file paths).
 */
export function redactAnswers(redact: Redactor, verbatim: readonly string[] = []) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (verbatim.includes(req.path.toLowerCase())) return next();
    const send = res.json.bind(res);
    const answer = keeping(redact, req.path);
    res.json = (body: unknown) => send(redactDeep(body, answer));
    next();
  };
}
