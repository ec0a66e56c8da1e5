/** Prometheus metrics of the API: what it counts per request, and GET /metrics. */
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ModelWatcher } from '../model-watcher.js';
import { RouteTable, routeKey } from './routes.js';

/** The metrics the routes feed. */
export interface ApiMetrics {
  registry: Registry;
  /** Rows predicted, by endpoint. */
  predictedRows: Counter<'endpoint'>;
  /** Counts and times every request, labelled by the route it reached (`known` paths, else "unmatched"). */
  observe(known: ReadonlyMap<string, unknown>): (req: Request, res: Response, next: NextFunction) => void;
}

/** Registers the API's metrics in `registry`. */
export function createApiMetrics(registry: Registry, watcher: ModelWatcher): ApiMetrics {
  const requests = new Counter({
    name: 'risk_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'risk_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const predictedRows = new Counter({
    name: 'risk_predictions_total',
    help: 'Rows predicted',
    labelNames: ['endpoint'],
    registers: [registry],
  });
  new Gauge({
    name: 'risk_model_version',
    help: 'Deployed model version being served (0 = none)',
    registers: [registry],
    collect() {
      this.set(watcher.current()?.version ?? 0);
    },
  });
  return {
    registry,
    predictedRows,
    observe: (known) => (req, res, next) => {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const path = routeKey(req.path);
        const matched = (req.route as { path?: string } | undefined)?.path;
        const route = matched ?? (known.has(path) ? path : 'unmatched');
        requests.inc({ method: req.method, route, status: String(res.statusCode) });
        latency.observe({ method: req.method, route }, Number(process.hrtime.bigint() - started) / 1e9);
      });
      next();
    },
  };
}

/** GET /metrics in Prometheus text format. */
export function metricsRoutes(metrics: ApiMetrics): RouteTable {
  return new RouteTable().get('/metrics', async (_req: Request, res: Response) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
