/**
 * Probes and the server's identity: GET /health and GET /ping (readiness: is a
 * model served, and is it the deployed version; see ModelWatcher.readiness), GET /health/live (liveness: the process serves),
 * GET /version (MLflow's: the package version as plain text).
 */
import type { Request, Response } from 'express';
import { PACKAGE_VERSION } from '../project.js';
import { RouteTable, type ApiContext } from './routes.js';

/** The health routes. */
export function healthRoutes({ watcher, redact }: ApiContext): RouteTable {
  const readiness = (_req: Request, res: Response): void => {
    const state = watcher.readiness();
    if (state.ready) {
      const { served } = state;
      res.json({ status: 'ok', model_version: served.version, loaded_at: served.loadedAt, deployed_at: served.record.deployed_at });
    } else if (state.served) {
      // Predictions still come from the older version; a load balancer should prefer a replica serving the deployed one.
      res.status(503).json({
        status: 'stale',
        model_version: state.served.version,
        deployed_version: state.deployedVersion,
        error: redact(state.reason),
      });
    } else {
      res.status(503).json({ status: 'unavailable', error: redact(state.reason) });
    }
  };
  return (
    new RouteTable()
      .get('/health', readiness)
      // MLflow's client and hosting health checks poll /ping and look only at the status.
      .get('/ping', readiness)
      .get('/health/live', (_req: Request, res: Response) => {
        res.json({ status: 'ok' });
      })
      // MLflow's ScoringServerClient.get_version() returns the body text as is: plain text, not JSON.
      .get('/version', (_req: Request, res: Response) => {
        res.type('text/plain').send(PACKAGE_VERSION);
      })
  );
}
