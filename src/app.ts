/**
 * app: serves the deployed model over HTTP (Express 5). Binds 127.0.0.1:8000
 * by default (config `api.host`/`api.port`, or PORT). Follows new deployments
 * without a restart. `--workers N` runs N processes sharing the port; a
 * scrape of GET /metrics on any of them answers for all (cluster-metrics.ts).
 */
import cluster from 'node:cluster';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { parseIntegerOption, parsePortOption, runCommand } from './lib/cli.js';
import type { Config } from './lib/config.js';
import { UserError } from './lib/errors.js';
import { createApp, type AppDeps } from './lib/api/app.js';
import { clusterScrape, serveClusterMetrics } from './lib/api/cluster-metrics.js';
import { silentLogger, type Logger } from './lib/log.js';
import { ModelWatcher } from './lib/api/model-watcher.js';

/** Options of the app command. */
export interface AppOptions {
  host?: string;
  port?: number;
  workers?: number;
}

/** A running server. */
export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/** What a caller (a test, a benchmark) may replace in the app; the defaults measure for real. */
export type ServerDeps = Partial<Pick<AppDeps, 'timings' | 'dependencies' | 'registry' | 'hotPath'>>;

/** Starts one server process (or worker) and resolves once it listens. */
export function startServer(
  config: Config,
  options: AppOptions = {},
  log: Logger = silentLogger,
  deps: ServerDeps = {},
): Promise<RunningApp> {
  const watcher = new ModelWatcher(config.prod_deployment_path, log).start(config.api.reload_interval_ms);
  const registry = deps.registry ?? new Registry();
  const scrapeMetrics = cluster.isWorker ? clusterScrape([registry]) : undefined;
  const app = createApp({ ...deps, registry, scrapeMetrics, config, watcher, log });
  const host = options.host ?? config.api.host;
  const port = options.port ?? config.api.port;
  // Responses in flight, so that closing can tell their keep-alive connections to end
  // (otherwise close() waits for keepAliveTimeout, 65 s, on each of them).
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const server = http.createServer((req, res) => {
    if (closing) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    // The hot path first; whatever it does not answer goes to Express (with the error it met, if any).
    app.hotPath(req as never, res as never, () => {
      app(req, res);
    });
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', (error) => {
      watcher.stop();
      reject(error);
    });
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      if (!watcher.current()) log.warn(`no model deployed yet: ${watcher.unavailableReason()}`);
      resolve({
        url,
        close: () =>
          new Promise<void>((done) => {
            closing = true;
            watcher.stop();
            for (const res of inFlight) {
              if (!res.headersSent) res.setHeader('Connection', 'close');
              else res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
            }
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/** Runs the app: in the primary, forks workers when asked; otherwise serves directly. */
export async function runApp(
  config: Config,
  options: AppOptions = {},
  log: Logger = silentLogger,
): Promise<{ url: string; workers: number; pid: number }> {
  const workers = options.workers ?? config.api.workers;
  if (workers < 1) throw new UserError(`--workers: ${workers} is not a number of processes (1 or more)`);
  if (workers > 1 && cluster.isPrimary) {
    const host = options.host ?? config.api.host;
    const port = options.port ?? config.api.port;
    serveClusterMetrics(log);
    for (let i = 0; i < workers; i++) cluster.fork();
    cluster.on('exit', (worker, code, signal) => {
      if (signal !== 'SIGTERM' && code !== 0) {
        log.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
        cluster.fork();
      }
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
      });
    }
    return { url: `http://${host}:${port}`, workers, pid: process.pid };
  }
  const running = await startServer(config, options, log);
  log.info(`listening on ${running.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info(`${signal}: closing`);
      void running.close().then(() => process.exit(0));
    });
  }
  return { url: running.url, workers: 1, pid: process.pid };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<AppOptions>({
    name: 'app',
    description: 'Serve predictions and model health over HTTP (default 127.0.0.1:8000)',
    options: (program) =>
      program
        .option('--host <host>', 'address to bind (default: api.host, 127.0.0.1)')
        .option('--port <port>', 'port (default: PORT or api.port, 8000)', parsePortOption('--port'))
        .option('--workers <n>', 'worker processes sharing the port (default: api.workers, 1)', parseIntegerOption('--workers')),
    run: (config, options, log) => runApp(config, options, log),
    // Only the process that serves prints; workers stay quiet on stdout.
    quiet: cluster.isWorker,
  });
}
