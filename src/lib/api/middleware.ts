/** The API's middleware: body checks, the bearer token, 404/405 and the one error handler. */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { messageOf, UnsupportedMediaTypeError, UserError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Redactor } from './redact.js';
import { routeKey } from './routes.js';

/** Rejects a POST without a body or with a content type no parser reads. */
export function requireBody(req: Request, _res: Response, next: NextFunction): void {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) {
    next(new UserError('the request body is empty: send {"records": [...]}, {"file_location": "..."} or CSV'));
    return;
  }
  if (!req.headers['content-type']) {
    next(new UnsupportedMediaTypeError('missing Content-Type: send application/json or text/csv'));
    return;
  }
  if (!req.is(['application/json', 'text/csv', 'text/plain', 'application/csv'])) {
    next(new UnsupportedMediaTypeError(`unsupported Content-Type "${req.headers['content-type']}": send application/json or text/csv`));
    return;
  }
  next();
}

/** Bearer-token check for every endpoint but those in `open` (when a token is configured). */
export function requireToken(token: string | null, open: readonly string[]) {
  const expected = token ? Buffer.from(token) : null;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!expected || open.includes(routeKey(req.path))) return next();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = match ? Buffer.from(match[1].trim()) : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res
      .set('WWW-Authenticate', 'Bearer')
      .status(401)
      .json({ error: match ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <token>)' });
  };
}

/** After the routes: 405 with Allow for a known path, a JSON 404 for anything else. */
export function noRoute(allowed: ReadonlyMap<string, readonly string[]>) {
  return (req: Request, res: Response): void => {
    const route = routeKey(req.path);
    const methods = allowed.get(route);
    if (methods) {
      res
        .set('Allow', methods.join(', '))
        .status(405)
        .json({ error: `${req.method} is not allowed on ${route} (use ${methods.join(', ')})` });
      return;
    }
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.path}` });
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
    res.status(status).json({ error: redact(message) });
  };
}
