/** GET /health: is a model served, and which. */
import type { Request, Response } from 'express';
import { RouteTable, type ApiContext } from './routes.js';

/** The health routes. */
export function healthRoutes({ watcher, redact }: ApiContext): RouteTable {
  return new RouteTable().get('/health', (_req: Request, res: Response) => {
    const served = watcher.current();
    if (served) {
      res.json({ status: 'ok', model_version: served.version, loaded_at: served.loadedAt, deployed_at: served.record.deployed_at });
    } else {
      res.status(503).json({ status: 'unavailable', error: redact(watcher.unavailableReason() ?? 'no model is deployed') });
    }
  });
}
