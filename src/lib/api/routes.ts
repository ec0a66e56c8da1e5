/** What every router of the API shares: the context it serves from, and a table of its routes. */
import express, { type RequestHandler } from 'express';
import type { Config } from '../config.js';
import type { ArtefactPaths } from '../layout.js';
import type { Logger } from '../log.js';
import type { ModelWatcher } from './model-watcher.js';
import type { Redactor } from './redact.js';

/** What the routers serve from. */
export interface ApiContext {
  config: Config;
  paths: ArtefactPaths;
  watcher: ModelWatcher;
  log: Logger;
  redact: Redactor;
}

type Method = 'GET' | 'POST';

/**
 * A router that remembers which methods each path answers, so the app can
 * answer 405 with an Allow header and label metrics by route.
 */
export class RouteTable {
  readonly router = express.Router();
  readonly allowed = new Map<string, Method[]>();

  /** Adds a GET route. */
  get(path: string, ...handlers: RequestHandler[]): this {
    return this.add('GET', path, handlers);
  }

  /** Adds a POST route. */
  post(path: string, ...handlers: RequestHandler[]): this {
    return this.add('POST', path, handlers);
  }

  private add(method: Method, path: string, handlers: RequestHandler[]): this {
    this.allowed.set(path, [...(this.allowed.get(path) ?? []), method]);
    if (method === 'GET') this.router.get(path, ...handlers);
    else this.router.post(path, ...handlers);
    return this;
  }
}

/** The route a path reaches: Express matches routes case-insensitively and with or without a trailing slash. */
export function routeKey(requestPath: string): string {
  return requestPath.toLowerCase().replace(/(.)\/+$/, '$1');
}

/**
 * The route of a table (`/docs/:asset` included) that a request path reaches,
 * if any, as the routers match it: case-insensitive, with or without a trailing slash.
 */
export function matchRoute(allowed: ReadonlyMap<string, readonly string[]>, requestPath: string): string | undefined {
  const key = routeKey(requestPath);
  if (allowed.has(key)) return key;
  for (const route of allowed.keys()) {
    if (!route.includes(':')) continue;
    const pattern = new RegExp('^' + route.replace(/[.]/g, '\\.').replace(/:\w+/g, '[^/]+') + '$', 'i');
    if (pattern.test(key)) return route;
  }
  return undefined;
}
