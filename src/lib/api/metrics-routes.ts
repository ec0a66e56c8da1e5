/**
 * Prometheus metrics of the API and GET /metrics:
 *
 *   process_*, nodejs_*                      prom-client's default runtime metrics
 *   risk_http_requests_total                 by method, route, status
 *   risk_http_request_duration_seconds       histogram by method, route, status (buckets up to 30 s)
 *   risk_predictions_total                   rows predicted, by endpoint
 *   risk_model_version                       version this process serves
 *   risk_model_*, risk_new_data_f1, risk_feature_*, risk_ticks_total, risk_last_tick_timestamp_seconds,
 *   risk_lock_held_seconds, risk_unrecorded_ticks_total, ...
 *                                            model health from the store, the run history, the tick
 *                                            lock and the unrecorded ticks (health-metrics.ts)
 *
 * Each metric names how a scrape under `--workers N` combines the workers'
 * values (cluster-metrics.ts): request counts add up (and keep a dead worker's
 * counts); what every worker reads from the same files is taken once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type LabelValues, type Registry } from 'prom-client';
import { registerHealthMetrics } from './health-metrics.js';
import { RouteTable, routeKey, type ApiContext } from './routes.js';

/** What the app knows about a request once it is answered. */
export interface AnsweredRequest {
  method: string;
  /** The route it reached (e.g. "/prediction"), or "unmatched". */
  route: string;
  /** The request path as sent (without the query). */
  path: string;
  status: number;
  seconds: number;
  /** Rows the request predicted (null for requests that predict nothing). */
  rows: number | null;
}

/** The metrics the routes feed. */
export interface ApiMetrics {
  registry: Registry;
  /** Rows predicted, by endpoint; each increment is also credited to the request being answered. */
  predictedRows: Counter<'endpoint'>;
  /** Cells predicted with a categorical level not seen in training (they add nothing to the log-odds), by feature. */
  unseenLevels: Counter<'feature'>;
  /**
   * Counts and times every request, labelled by the route it reached (`known`
   * paths, else "unmatched"), then hands it to each of `listeners` (the access log).
   */
  observe(known: ReadonlyMap<string, unknown>, listeners?: ((request: AnsweredRequest) => void)[]): Observer;
}

/** The observing middleware, and `known` for a handler that counts its rows itself (the hot path). */
export type Observer = ((req: Request, res: Response, next: NextFunction) => void) & {
  /** Counts and times a request whose timing started at `started` (hrtime); the caller sets the returned `rows`. */
  known(req: Request, res: Response, started: bigint): { rows: number | null };
};

/** Latency buckets in seconds: predictions take milliseconds, GET /diagnostics tens of seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];

/** The request being answered, so that a counter incremented deep in a route can credit it. */
const answering = new AsyncLocalStorage<{ rows: number | null }>();

/**
 * Makes each increment of `counter` also count for the request being answered.
 * prom-client sets `inc` on each instance (not on the prototype), so it is
 * wrapped there; only the (labels, value) form is used by the routes.
 */
function creditRequests(counter: Counter<'endpoint'>): Counter<'endpoint'> {
  const count = counter.inc.bind(counter) as (labels: LabelValues<'endpoint'>, value?: number) => void;
  counter.inc = ((labels: LabelValues<'endpoint'>, value: number = 1) => {
    count(labels, value);
    const state = answering.getStore();
    if (state) state.rows = (state.rows ?? 0) + value;
  }) as Counter<'endpoint'>['inc'];
  return counter;
}

/** Registers the API's metrics in `registry`. */
export function createApiMetrics(registry: Registry, context: ApiContext): ApiMetrics {
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which promtool's lint rejects; each is the sum over `type` of its namesake without _total.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  const requests = new Counter({
    name: 'risk_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'risk_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const predictedRows = creditRequests(
    new Counter({ name: 'risk_predictions_total', help: 'Rows predicted, by endpoint', labelNames: ['endpoint'], registers: [registry] }),
  );
  const unseenLevels = new Counter({
    name: 'risk_unseen_levels_total',
    help: 'Categorical cells predicted with a level not seen in training (they add nothing), by feature',
    labelNames: ['feature'],
    registers: [registry],
  });
  new Gauge({
    name: 'risk_model_version',
    help: 'Deployed model version this process serves (0 = none; the lowest of the workers)',
    aggregator: 'min',
    registers: [registry],
    collect() {
      this.set(context.watcher.current()?.version ?? 0);
    },
  });
  registerHealthMetrics(registry, context);
  return {
    registry,
    predictedRows,
    unseenLevels,
    observe: (known, listeners = []) => {
      const watch = (req: Request, res: Response, state: { rows: number | null }, started = process.hrtime.bigint()): void => {
        res.on('finish', () => {
          // Node's own request (the hot path ahead of Express) has no `path`.
          const requestPath = (req.path as string | undefined) ?? (req.url ?? '/').split('?')[0];
          const path = routeKey(requestPath);
          const matched = (req.route as { path?: string } | undefined)?.path;
          const route = matched ?? (known.has(path) ? path : 'unmatched');
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const labels = { method: req.method, route, status: String(res.statusCode) };
          requests.inc(labels);
          latency.observe(labels, seconds);
          const answered = { method: req.method, route, path: requestPath, status: res.statusCode, seconds, rows: state.rows };
          for (const listener of listeners) listener(answered);
        });
      };
      const middleware = (req: Request, res: Response, next: NextFunction): void => {
        const state: { rows: number | null } = { rows: null };
        watch(req, res, state);
        answering.run(state, next);
      };
      // The hot path counts its own rows: no async context to carry them.
      return Object.assign(middleware, {
        known: (req: Request, res: Response, started: bigint): { rows: number | null } => {
          const state = { rows: null };
          watch(req, res, state, started);
          return state;
        },
      });
    },
  };
}

/** GET /metrics in Prometheus text format; `scrape` answers the text (the aggregate of every worker under a cluster). */
export function metricsRoutes(metrics: ApiMetrics, scrape: () => Promise<string> = () => metrics.registry.metrics()): RouteTable {
  return new RouteTable().get('/metrics', async (_req: Request, res: Response) => {
    res.type(metrics.registry.contentType).send(await scrape());
  });
}
