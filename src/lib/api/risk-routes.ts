/**
 * GET /risk?top=n: the call list (risk-list.ts) of the served model over the
 * newest ingested data, riskiest first, each client with every feature's
 * contribution to its log-odds, largest first. Built on the report worker once
 * per data file (device, inode, size, mtime) and deployment, then sliced per request.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { UnavailableError, UserError } from '../errors.js';
import type { JobRunner } from './report-worker.js';
import { RouteTable, type ApiContext } from './routes.js';

/** Clients answered when `top` is not given. */
export const DEFAULT_TOP = 20;

/** The `top` query parameter: a positive integer, DEFAULT_TOP when absent. */
export function parseTop(value: unknown): number {
  if (value === undefined) return DEFAULT_TOP;
  const text = typeof value === 'string' ? value : '';
  const top = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(top) || top < 1)
    throw new UserError(`"top" must be a positive integer (the number of clients to list), got ${JSON.stringify(value)}`);
  return top;
}

/** The risk routes; the list is built on the report worker (`jobs`), never on the event loop. */
export function riskRoutes(context: ApiContext, jobs: JobRunner): RouteTable {
  const { config, paths, watcher } = context;
  const dataName = path.basename(paths.finalData);
  return new RouteTable().get('/risk', async (req: Request, res: Response) => {
    const top = parseTop(req.query.top);
    const served = watcher.require();
    if (!fs.existsSync(paths.finalData)) throw new UnavailableError(`${dataName} not found (run ingestion first)`);
    // The worker keys its list on the data file's identity and the deployment, not only the version number.
    const clients = await jobs.run('risk', {
      file: paths.finalData,
      label: dataName,
      model: served.model,
      modelKey: served.fingerprint,
      schema: config.schema,
      top,
    });
    res.json({ model_version: served.version, data_file: dataName, clients });
  });
}
