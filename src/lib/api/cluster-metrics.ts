/**
 * One scrape for all workers under `--workers N`. The port is shared, so a
 * scrape reaches whichever worker the kernel hands the connection to; that
 * worker asks the primary, the primary asks every listening worker for its
 * metrics (as JSON) over the cluster's IPC channel, merges them with
 * prom-client's AggregatorRegistry.aggregate (each metric by its own
 * aggregator: counters and histograms add up, file-read gauges count once) and
 * answers the asking worker with the text.
 *
 *   scrape --> worker k --(scrape)--> primary --(collect)--> every listening worker
 *                       <--(text)---          <--(metrics)--
 *
 * The primary asks only workers that are listening (a worker still starting
 * has answered no request yet) and leaves out, with a warning, one that does
 * not answer within the time-out, so a stuck worker cannot stall every scrape.
 * This is why prom-client's clusterMetrics (which waits 5 s for every forked
 * worker, ready or not) is not used as is.
 *
 * Counters never go down while the primary lives (Prometheus would read a
 * decrease as a reset): the primary keeps each worker's newest answer; a worker
 * that does not answer in time is counted with it, and a worker that dies
 * leaves its counters and histograms (the metrics that add up) to a tally of
 * retired workers that every later scrape adds. Counts a worker took after the
 * primary's newest answer from it are lost with it, but nothing counted before
 * is taken back.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { messageOf, UnavailableError } from '../errors.js';
import type { Logger } from '../log.js';

/** One registry's metrics as getMetricsAsJSON gives them. */
type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

const SCRAPE = 'risk:metrics-scrape';
const TEXT = 'risk:metrics-text';
const COLLECT = 'risk:metrics-collect';
const COLLECTED = 'risk:metrics-collected';

type Message =
  | { type: typeof SCRAPE; id: number }
  | { type: typeof TEXT; id: number; text?: string; error?: string }
  | { type: typeof COLLECT; id: number }
  | { type: typeof COLLECTED; id: number; metrics?: MetricJson[][]; error?: string };

function isMessage(value: unknown): value is Message {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    (value as { type: string }).type.startsWith('risk:metrics-')
  );
}

/**
 * The metrics of a registry that add up across workers (counters and
 * histograms summed), the part of a dead worker that later scrapes keep.
 */
function additive(metrics: MetricJson[]): MetricJson[] {
  return metrics.filter((metric) => {
    const aggregator = (metric as { aggregator?: string }).aggregator ?? 'sum';
    const type = String(metric.type);
    return aggregator === 'sum' && (type === 'counter' || type === 'histogram');
  });
}

/** Time a worker has to answer the primary, and the primary to answer a scrape. */
const WORKER_TIMEOUT_MS = 2_000;
const SCRAPE_TIMEOUT_MS = 5_000;

/**
 * In the primary: answers the workers' scrapes with the aggregate of every
 * listening worker. Call before forking.
 */
export function serveClusterMetrics(log: Logger): void {
  const listening = new Set<Worker>();
  const waiting = new Map<number, { worker: Worker; resolve: (metrics: MetricJson[][] | null) => void }>();
  /** Each live worker's newest answer. */
  const lastKnown = new Map<Worker, MetricJson[][]>();
  /** The summed counters and histograms of the workers that died (one registry's worth). */
  let retired: Promise<MetricJson[]> = Promise.resolve([]);
  let nextId = 0;
  cluster.on('listening', (worker) => listening.add(worker));
  cluster.on('exit', (worker) => {
    listening.delete(worker);
    const last = lastKnown.get(worker);
    lastKnown.delete(worker);
    if (!last) return;
    const before = retired;
    retired = before.then(
      (earlier) => AggregatorRegistry.aggregate([earlier, ...last].map(additive)).getMetricsAsJSON(),
      () => [],
    );
  });

  const collectFrom = (worker: Worker): Promise<MetricJson[][] | null> =>
    new Promise((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        log.warn(`metrics: worker ${worker.process.pid} did not answer within ${WORKER_TIMEOUT_MS} ms; left out of this scrape`);
        resolve(null);
      }, WORKER_TIMEOUT_MS);
      waiting.set(id, {
        worker,
        resolve: (metrics) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(metrics);
        },
      });
      worker.send({ type: COLLECT, id } satisfies Message);
    });

  const aggregate = async (): Promise<string> => {
    const workers = [...listening].filter((worker) => worker.isConnected());
    const answers = await Promise.all(workers.map(collectFrom));
    const registries = answers.flatMap((answer, i) => {
      if (answer) lastKnown.set(workers[i], answer);
      // A worker that did not answer in time counts with its newest answer, so no counter dips.
      return answer ?? lastKnown.get(workers[i]) ?? [];
    });
    const gone = await retired;
    return AggregatorRegistry.aggregate(gone.length > 0 ? [...registries, additive(gone)] : registries).metrics();
  };

  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECTED) {
      const pending = waiting.get(message.id);
      if (pending?.worker !== worker) return;
      if (message.error) log.warn(`metrics: worker ${worker.process.pid} could not collect its metrics: ${message.error}`);
      pending.resolve(message.metrics ?? null);
    } else if (message.type === SCRAPE) {
      aggregate().then(
        (text) => worker.isConnected() && worker.send({ type: TEXT, id: message.id, text } satisfies Message),
        (error: unknown) => worker.isConnected() && worker.send({ type: TEXT, id: message.id, error: messageOf(error) } satisfies Message),
      );
    }
  });
}

/**
 * In a worker: answers the primary's requests for this worker's metrics from
 * `registries`, and returns the scrape of GET /metrics, which asks the primary
 * for the aggregate.
 */
export function clusterScrape(registries: Registry[]): () => Promise<string> {
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECT) {
      Promise.all(registries.map((registry) => registry.getMetricsAsJSON())).then(
        (metrics) => process.send?.({ type: COLLECTED, id: message.id, metrics } satisfies Message),
        (error: unknown) => process.send?.({ type: COLLECTED, id: message.id, error: messageOf(error) } satisfies Message),
      );
    } else if (message.type === TEXT) {
      const pending = waiting.get(message.id);
      if (!pending) return;
      waiting.delete(message.id);
      if (message.text !== undefined) pending.resolve(message.text);
      else pending.reject(new UnavailableError(`metrics of the workers could not be gathered: ${message.error ?? 'no answer'}`));
    }
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new UnavailableError(`metrics of the workers could not be gathered within ${SCRAPE_TIMEOUT_MS} ms`));
      }, SCRAPE_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send?.({ type: SCRAPE, id } satisfies Message);
    });
}
