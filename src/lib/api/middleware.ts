/** The API's middleware: path and query checks, body checks, the bearer token, 404/405 and the one error handler. */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { messageOf, UnsupportedMediaTypeError, UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { MLFLOW_PATHS, mlflowErrorCode } from './mlflow.js';
import { keeping, type Redactor } from './redact.js';
import { originForm } from './connection-guards.js';
import { matchRoute, routeKey } from './routes.js';

/** The JSON body of an error answer: MLflow's shape on its paths, `{"error": ...}` everywhere else. */
export function errorBody(requestPath: string, status: number, message: string): Record<string, string> {
  if (MLFLOW_PATHS.includes(routeKey(requestPath))) return { error_code: mlflowErrorCode(status), message };
  return { error: message };
}

/** Merges repeated slashes in the path before routing, as Flask does (`//prediction` reaches /prediction). */
export function mergeSlashes(req: Request, _res: Response, next: NextFunction): void {
  // An absolute-form target (`GET http://host/health`) is routed as its origin form.
  if (!req.url.startsWith('/')) req.url = originForm(req.url);
  const query = req.url.indexOf('?');
  const pathPart = query === -1 ? req.url : req.url.slice(0, query);
  if (pathPart.includes('//')) req.url = pathPart.replace(/\/{2,}/g, '/') + (query === -1 ? '' : req.url.slice(query));
  next();
}

/** Refuses a query parameter given more than once (which of the values was meant cannot be told). */
export function rejectRepeatedQuery(req: Request, _res: Response, next: NextFunction): void {
  const repeated = Object.entries(req.query).find(([, value]) => Array.isArray(value));
  if (repeated) {
    const [name, values] = repeated as [string, unknown[]];
    next(new UserError(`query parameter "${name.slice(0, 40)}" is given ${values.length} times: give it once`));
    return;
  }
  next();
}

/** Whether a request carries a body (a length above 0, or chunked). */
export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Rejects a request without a body (`hint` says what to send) or without a content type. */
export function requireBody(hint: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!hasBody(req)) next(new UserError(`the request body is empty: ${hint}`));
    else if (!req.headers['content-type']) next(new UnsupportedMediaTypeError('missing Content-Type'));
    else next();
  };
}

/** Bearer-token check for every endpoint but the routes in `open` (when a token is configured; `:name` stands for one path segment). */
export function requireToken(token: string | null, open: readonly string[]) {
  const expected = token ? Buffer.from(token) : null;
  // A route with a parameter (`/dashboard/:asset`) is open for any one segment there, known or not (a 404 then).
  const exact = new Set(open.filter((route) => !route.includes(':')));
  const patterns = open.filter((route) => route.includes(':')).map((route) => new RegExp(`^${route.replace(/:[^/]+/g, '[^/]+')}$`));
  const isOpen = (key: string): boolean => exact.has(key) || patterns.some((pattern) => pattern.test(key));
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!expected || isOpen(routeKey(req.path))) return next();
    if (bearerMatches(expected, req.headers.authorization)) return next();
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    res
      .set('WWW-Authenticate', 'Bearer')
      .status(401)
      .json(errorBody(req.path, 401, match ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <token>)'));
  };
}

/** True when an Authorization header carries the expected bearer token (compared in constant time). */
export function bearerMatches(expected: Buffer, header: string | undefined): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const given = match ? Buffer.from(match[1].trim()) : Buffer.alloc(0);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The headers a middleware sets on every answer (helmet's security headers),
 * recorded once and then set in one go: helmet's configuration here is static,
 * so the answers carry exactly the same headers at a fraction of the cost.
 */
export function recordedHeaders(middleware: (req: Request, res: Response, next: (error?: unknown) => void) => void): [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
    getHeader: (name: string) => headers.get(name),
  };
  let done = false;
  middleware({ headers: {}, method: 'GET', url: '/' } as Request, recorder as unknown as Response, () => (done = true));
  if (!done) throw new Error('the header middleware did not finish synchronously');
  return [...headers];
}

/** Sets recorded headers on every answer. */
export function setHeaders(headers: readonly [string, string][]) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/** After the routes: 405 with Allow for a known path, a JSON 404 for anything else. */
export function noRoute(allowed: ReadonlyMap<string, readonly string[]>) {
  return (req: Request, res: Response): void => {
    const route = matchRoute(allowed, req.path);
    const methods = route === undefined ? undefined : allowed.get(route);
    if (methods) {
      res
        .set('Allow', methods.join(', '))
        .status(405)
        .json(errorBody(req.path, 405, `${req.method} is not allowed on ${req.path.slice(0, 200)} (use ${methods.join(', ')})`));
      return;
    }
    res.status(404).json(errorBody(req.path, 404, `no such endpoint: ${req.method} ${req.path.slice(0, 200)}`));
  };
}

/** The one error handler: caller mistakes get their 4xx and message, anything else a 500 without details. */
export function errorHandler(log: Logger, limit: string | number, redact: Redactor) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const bodyError = error as { type?: string; status?: number; expose?: boolean; message?: string };
    let status = 500;
    let message = 'internal error';
    if (error instanceof UserError) {
      status = error.status;
      message = error.message;
    } else if (bodyError?.type === 'entity.too.large') {
      status = 413;
      message = `request body is larger than the limit (${limit})`;
    } else if (bodyError?.type === 'entity.parse.failed') {
      status = 400;
      message = `invalid JSON body: ${bodyError.message}`;
    } else if (bodyError?.expose && typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
      status = bodyError.status;
      message = bodyError.message ?? 'bad request';
    }
    if (status === 500) log.error(`${req.method} ${req.path} failed: ${messageOf(error)}`, { stack: (error as Error)?.stack });
    else log.debug(`${req.method} ${req.path}: ${status} ${messageOf(error)}`);
    if (res.headersSent) return;
    res.status(status).json(errorBody(req.path, status, keeping(redact, req.path)(message)));
  };
}
