/**
 * The hot path of the API: `POST /prediction` with a JSON body of records (what
 * the load of the original's callers is), answered ahead of the general
 * middleware stack. Profiling showed no single cost but many small ones per
 * request (six body parsers' type checks, router layers, per-request header
 * setting); here one body read, one parse and one write do the same work with
 * the same guards:
 *
 * - the bearer token (a request without the right one takes the general path,
 *   which answers 401);
 * - the body limit and JSON errors, as body-parser reports them (the same error
 *   types, so the error handler answers them alike);
 * - validation by columnsFromRecords, the same function as the general path;
 * - metrics and the access log, through the same `observe` middleware;
 * - the same security headers and content type.
 *
 * Anything else (a query string, another content type, a body that is not
 * exactly `{"records": [...]}`) continues down the general path with the body
 * already parsed, so behaviour cannot differ between the two.
 */
import type { Request, Response } from 'express';
import type { Observer } from './metrics-routes.js';
import type { Counter } from 'prom-client';
import bytes from 'bytes';
import { classify, inputNames } from '../model/model-file.js';
import type { ModelWatcher } from './model-watcher.js';
import { columnsFromRecords } from './prediction-input.js';
import { predictInput } from './prediction-routes.js';
import { bearerMatches } from './middleware.js';

/** What the hot path needs from the app. */
export interface FastPredictionDeps {
  watcher: ModelWatcher;
  predictedRows: Counter<'endpoint'>;
  unseenLevels: Counter<'feature'>;
  /** The app's metrics and access-log middleware. */
  observe: Observer;
  /** The security headers every answer carries. */
  headers: readonly [string, string][];
  token: string | null;
  bodyLimit: string | number;
}

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** True for a parsed body of exactly one key, `records`, holding a list. */
function isRecordsOnly(body: unknown): body is { records: unknown[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  return keys.length === 1 && keys[0] === 'records' && Array.isArray((body as { records: unknown }).records);
}

/**
 * JSON.parse as express.json({ strict: true }) applies it: an empty body is
 * `{}`, a body that is not an object or an array is a syntax error, and errors
 * carry body-parser's type, so the error handler answers them alike (400).
 */
function parseStrictJson(text: string): unknown {
  if (text.length === 0) return {};
  const first = /\S/.exec(text)?.[0];
  try {
    if (first !== '{' && first !== '[') {
      // The message a parser gives at that character, as body-parser makes it: parse the text
      // masked with '#' from there, then put the masked characters back into the message.
      const index = first === undefined ? -1 : text.indexOf(first);
      try {
        JSON.parse(index === -1 ? '' : text.slice(0, index) + '#'.repeat(text.length - index));
      } catch (error) {
        const message = (error as Error).message.replace(/#+/g, (mask) => text.substring(index, index + mask.length));
        throw Object.assign(error as Error, { message });
      }
    }
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw Object.assign(error as Error, { type: 'entity.parse.failed', status: 400, expose: true });
  }
}

/**
 * The answer `{"predictions": [...], "probabilities": [...], "model_version": n}`,
 * written directly (the same text JSON.stringify gives: finite numbers print
 * alike), without the intermediate arrays.
 */
export function predictionJson(probabilities: Float64Array, version: number, unseen?: Record<string, number>): string {
  const classes = classify(probabilities);
  let predictions = '';
  let values = '';
  for (let i = 0; i < probabilities.length; i++) {
    const comma = i === 0 ? '' : ',';
    predictions += comma + (classes[i] === 1 ? '1' : '0');
    const p = probabilities[i];
    values += comma + (Number.isFinite(p) ? String(p) : 'null');
  }
  const note = unseen ? `,"unseen_levels":${JSON.stringify(unseen)}` : '';
  return `{"predictions":[${predictions}],"probabilities":[${values}],"model_version":${version}${note}}`;
}

/** A body read error as raw-body and body-parser report it (the error handler answers these). */
function bodyError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, type, expose: true });
}

/**
 * Reads a request body of at most `limit` bytes: a declared length over the
 * limit is refused before reading, a body that grows past it as soon as it
 * does (413), and one shorter or longer than declared is a 400.
 */
function readBody(req: Request, limit: number, declared: number | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (declared !== undefined && declared > limit) {
      reject(bodyError(413, 'entity.too.large', 'request entity too large'));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        req.resume();
        reject(bodyError(413, 'entity.too.large', 'request entity too large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      if (declared !== undefined && received !== declared) {
        reject(bodyError(400, 'request.size.invalid', 'request size did not match content length'));
        return;
      }
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    };
    const onAbort = (): void => {
      cleanup();
      reject(bodyError(400, 'request.aborted', 'request aborted'));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAbort);
      req.off('error', onAbort);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAbort);
    req.on('error', onAbort);
  });
}

/** Marks a request the hot path has handed on (with the error it met, if any), so it is not tried twice. */
const HANDED = Symbol('handed on by the hot path');
type Marked = { [HANDED]?: { error: unknown } };

/** A request handler that runs on Node's own request and response as well as on Express's. */
export type HotPath = (req: Request, res: Response, next: (error?: unknown) => void) => void;

/**
 * The hot-path handler. Mounted first in the Express app, and called by the
 * server ahead of Express itself (Express's dispatch alone halves a bare Node
 * server's rate on this request: 19,300 -> 9,200 req/s, measured with wrk on
 * this machine), with `next` handing the request to Express.
 */
export function fastPrediction(deps: FastPredictionDeps): HotPath {
  const expected = deps.token ? Buffer.from(deps.token) : null;
  const limit = typeof deps.bodyLimit === 'number' ? deps.bodyLimit : (bytes.parse(deps.bodyLimit) ?? 5 * 1024 * 1024);
  const setSecurityHeaders = (res: Response): void => {
    for (const [name, value] of deps.headers) res.setHeader(name, value);
  };
  return (req: Request, res: Response, next: (error?: unknown) => void): void => {
    const handed = (req as Marked)[HANDED];
    if (handed) return next(handed.error);
    const handOn = (error?: unknown): void => {
      (req as Marked)[HANDED] = { error };
      next(error);
    };
    if (req.method !== 'POST' || req.url !== '/prediction' || !JSON_TYPE.test(req.headers['content-type'] ?? '')) return next();
    if (expected && !bearerMatches(expected, req.headers.authorization)) return next();
    // A browser's request (it carries Origin) takes the general path, which answers CORS.
    if (req.headers.origin !== undefined) return next();
    const served = deps.watcher.current();
    if (!served) return next();
    const started = process.hrtime.bigint();
    const length = req.headers['transfer-encoding'] === undefined ? Number(req.headers['content-length'] ?? 0) : undefined;
    readBody(req, limit, length)
      .then((raw) => {
        const body = parseStrictJson(raw.toString('utf8'));
        if (!isRecordsOnly(body)) {
          // The general path, with the body parsed (the parsers skip a request already read).
          (req as Request & { body: unknown }).body = body;
          handOn();
          return;
        }
        const state = deps.observe.known(req, res, started);
        try {
          const input = columnsFromRecords(body.records, inputNames(served.model));
          const { probabilities, unseen } = predictInput(served, input, deps.unseenLevels);
          deps.predictedRows.inc({ endpoint: 'prediction' }, input.rows);
          state.rows = input.rows;
          const answer = predictionJson(probabilities, served.version, unseen);
          setSecurityHeaders(res);
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          res.setHeader('Content-Length', Buffer.byteLength(answer));
          res.writeHead(200);
          res.end(answer);
        } catch (error) {
          setSecurityHeaders(res);
          handOn(error);
        }
      })
      .catch((error: unknown) => {
        deps.observe.known(req, res, started);
        setSecurityHeaders(res);
        handOn(error);
      });
  };
}
