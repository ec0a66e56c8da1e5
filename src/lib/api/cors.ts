/**
 * OPTIONS and CORS. OPTIONS on a known path answers 204 with Allow, without
 * the token (it tells only what the OpenAPI document tells). Browser apps on
 * the origins of `api.cors_origins` (none by default: CORS off) may call the
 * API: their preflights get the Access-Control-Allow-* headers, and every
 * answer to them carries Access-Control-Allow-Origin; any other origin gets no
 * CORS header at all, so the browser refuses it the answer.
 */
import type { NextFunction, Request, Response } from 'express';
import { matchRoute } from './routes.js';

/** The request headers a browser app may send (the bearer token and a body's type). */
const ALLOWED_HEADERS = 'Authorization, Content-Type';
/** How long a browser may keep a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

/** The middleware; goes before the token check, so that preflights (which carry no token) are answered. */
export function corsAndOptions(allowed: ReadonlyMap<string, readonly string[]>, origins: readonly string[]) {
  const cors = origins.length > 0;
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    const allowedOrigin = cors && origin !== undefined && origins.includes(origin.toLowerCase());
    // Caches must keep answers to different origins apart once answers depend on the origin.
    if (cors) res.vary('Origin');
    if (allowedOrigin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', 'Allow, WWW-Authenticate');
    }
    if (req.method !== 'OPTIONS') return next();
    const route = matchRoute(allowed, req.path);
    if (route === undefined) return next();
    const methods = allowed.get(route) ?? [];
    res.setHeader('Allow', [...methods, 'OPTIONS'].join(', '));
    if (allowedOrigin && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', methods.join(', '));
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE);
    }
    res.status(204).end();
  };
}
