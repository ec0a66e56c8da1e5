/**
 * GET /risk?top=n: the call list (risk-list.ts) of the served model over the
 * newest ingested data, riskiest first, each client with every feature's
 * contribution to its log-odds, largest first. Built once per finaldata.csv
 * (size, mtime, inode) and served model, then sliced per request.
 */
import path from 'node:path';
import type { Request, Response } from 'express';
import { readDataset } from '../dataset.js';
import { UserError } from '../errors.js';
import { schemaForModel } from '../model.js';
import type { ServedModel } from '../model-watcher.js';
import { buildRiskList, type RiskList } from '../risk-list.js';
import { fileCache } from './cache.js';
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

/** The risk routes. */
export function riskRoutes(context: ApiContext): RouteTable {
  const { config, paths, watcher } = context;
  const dataName = path.basename(paths.finalData);
  const lists = fileCache((file: string, served: ServedModel): RiskList => {
    const data = readDataset(file, schemaForModel(config.schema, served.model), { label: dataName });
    return buildRiskList(data, config.schema, served.model);
  }, 'run ingestion first');

  return new RouteTable().get('/risk', (req: Request, res: Response) => {
    const top = parseTop(req.query.top);
    const served = watcher.require();
    // Keyed by the deployment, not only the number: a rebuilt store can serve another model under the same version.
    const list = lists(paths.finalData, served, served.fingerprint);
    const clients = list.clients.slice(0, top).map((client) => ({
      [list.idColumn]: client.id,
      probability: client.probability,
      reasons: list.explain(client).contributions.map(({ feature, value, contribution }) => ({ feature, value, contribution })),
    }));
    res.json({ model_version: served.version, data_file: dataName, clients });
  });
}
