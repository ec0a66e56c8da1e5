/**
 * The report routes' heavy work on a worker thread: summary statistics and
 * missing counts of the ingested data, the call list over it, and scoring the
 * served model on the test data. Each reads a whole data file (a second or more at 1,000,000
 * rows); on the event loop that would hold up /health and /prediction meanwhile.
 *
 *   server thread                         worker thread (this file, run as one)
 *   ReportWorker.run('summary', input) -> JOBS.summary(input)
 *          <- result, or the error as { message, status }
 *
 * One thread per server process: jobs queue behind each other, so at most one
 * core reads data while the other answers requests. It starts on the first job
 * and ends after a minute idle (the memory of a million rows goes with it); only
 * a job in flight keeps the process alive. A user error from a job (bad data on the
 * server) comes back as the same class, so the routes answer the same statuses.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { DataSchema } from '../config.js';
import { countMissing, summarizeData, type MissingData, type SummaryStatistics } from '../diagnostics/data-summary.js';
import { readDataset } from '../data/dataset.js';
import { messageOf, UnavailableError, UserError } from '../errors.js';
import { computeMetrics, type Metrics } from '../model/metrics.js';
import { classify, countUnseenLevels, predictProbabilities, schemaForModel, type ModelFile } from '../model/model-file.js';
import { buildRiskList, reasonPhrases, type RiskList } from '../report/risk-list.js';
import type { DashboardRequest } from '../dashboard/dashboard-data.js';

/** Scores `model` on the labelled data in `file` (named `label` in messages). */
function scoreModel(input: { file: string; label: string; model: ModelFile; schema: DataSchema }): Metrics {
  const data = readDataset(input.file, schemaForModel(input.schema, input.model), { label: input.label, ids: false });
  if (data.rows === 0) throw new UnavailableError(`${input.label} has no rows to score on`);
  const probabilities = predictProbabilities(input.model, data.columns, data.categories);
  return computeMetrics(data.target!, classify(probabilities), probabilities);
}

/** One client of the call list as GET /risk answers it (the id under the schema's id column name). */
export type RiskAnswerClient = Record<string, unknown> & {
  probability: number;
  reasons: { feature: string; value: number | string | null; contribution: number }[];
};

/** The call list last built in this thread, kept for the requests that follow (another `top`, the same data and model). */
let riskCache: { key: string; list: RiskList } | undefined;

/** What a call-list job reads: the data file and the served model (keyed by its deployment). */
interface RiskInput {
  file: string;
  label: string;
  model: ModelFile;
  modelKey: string;
  schema: DataSchema;
}

/** The call list of `model` over the data in `file`, built once per file identity and deployment. */
function riskListOf(input: RiskInput): RiskList {
  const stat = fs.statSync(input.file);
  const key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${input.modelKey}`;
  if (riskCache?.key !== key) {
    const data = readDataset(input.file, schemaForModel(input.schema, input.model), { label: input.label, requireTarget: false });
    riskCache = { key, list: buildRiskList(data, input.schema, input.model) };
  }
  return riskCache.list;
}

/** Characters of an id the dashboard shows (searching reads the whole id). */
const SHOWN_ID = 120;

/** A page of the call list for the dashboard: clients whose id contains `search` (any case), ranked, with the reasons in words. */
function riskPage(input: RiskInput & { search: string; offset: number; limit: number }) {
  const list = riskListOf(input);
  const needle = input.search.toLowerCase();
  const clients: { rank: number; id: string; id_length: number; probability: number; reasons: string[] }[] = [];
  let matched = 0;
  list.clients.forEach((client, index) => {
    if (needle !== '' && !client.id.toLowerCase().includes(needle)) return;
    if (matched >= input.offset && clients.length < input.limit) {
      const id = client.id.length > SHOWN_ID ? `${client.id.slice(0, SHOWN_ID - 1)}…` : client.id;
      const reasons = reasonPhrases(input.model, list.explain(client));
      clients.push({ rank: index + 1, id, id_length: client.id.length, probability: client.probability, reasons });
    }
    matched++;
  });
  return { id_column: list.idColumn, total: list.clients.length, matched, clients };
}

/** The head of the call list of `model` over the data in `file`: `top` clients, each with every contribution, largest first. */
function riskHead(input: RiskInput & { top: number }): RiskAnswerClient[] {
  const list = riskListOf(input);
  return list.clients.slice(0, input.top).map((client) => ({
    [list.idColumn]: client.id,
    probability: client.probability,
    reasons: list.explain(client).contributions.map(({ feature, value, contribution }) => ({ feature, value, contribution })),
  }));
}

/** The jobs a worker runs: each takes plain data and returns plain data (structured-cloned both ways). */
const JOBS = {
  summary: (input: { file: string; schema: DataSchema }): SummaryStatistics => summarizeData(input.file, input.schema),
  missing: (input: { file: string }): MissingData => countMissing(input.file),
  score: scoreModel,
  risk: riskHead,
  riskPage,
  // Imported on the first dashboard job: vega and the fonts load in this thread only, and only when needed.
  dashboard: async (input: DashboardRequest) => (await import('../dashboard/dashboard-data.js')).answerDashboard(input),
  predictFile: (input: {
    file: string;
    label: string;
    model: ModelFile;
    schema: DataSchema;
  }): { probabilities: Float64Array; unseen: Record<string, number> } => {
    const data = readDataset(input.file, input.schema, { label: input.label, requireTarget: false, ids: false });
    return {
      probabilities: predictProbabilities(input.model, data.columns, data.categories),
      unseen: countUnseenLevels(input.model, data.categories, data.rows),
    };
  },
};

/** A job's name. */
export type JobName = keyof typeof JOBS;
type Input<J extends JobName> = Parameters<(typeof JOBS)[J]>[0];
type Output<J extends JobName> = Awaited<ReturnType<(typeof JOBS)[J]>>;

interface Request {
  id: number;
  job: JobName;
  input: unknown;
}
interface Reply {
  id: number;
  value?: unknown;
  error?: { message: string; status?: number; stack?: string };
}

/** Runs report jobs somewhere off the event loop. */
export interface JobRunner {
  run<J extends JobName>(job: J, input: Input<J>): Promise<Output<J>>;
}

const ROLE = 'report-jobs';
/** A worker with nothing to do for this long ends. */
const IDLE_MS = 60_000;

/** The error a reply carries, rebuilt on the server thread. */
function rebuildError(error: NonNullable<Reply['error']>): Error {
  if (error.status === 503) return new UnavailableError(error.message);
  if (error.status !== undefined) return new UserError(error.message);
  const rebuilt = new Error(`report worker: ${error.message}`);
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}

/** The server side: one worker thread, started on demand, jobs answered in order. */
export class ReportWorker implements JobRunner {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private idleTimer: NodeJS.Timeout | undefined;

  run<J extends JobName>(job: J, input: Input<J>): Promise<Output<J>> {
    const worker = this.started();
    const id = this.nextId++;
    clearTimeout(this.idleTimer);
    // A job in flight keeps the process alive; an idle worker does not.
    worker.ref();
    return new Promise<Output<J>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, job, input } satisfies Request);
    });
  }

  /** Ends the worker thread now (jobs in flight fail). */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE } });
    worker.on('message', (reply: Reply) => {
      const entry = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error) entry?.reject(rebuildError(reply.error));
      else entry?.resolve(reply.value);
      if (this.pending.size === 0) {
        worker.unref();
        this.idleTimer = setTimeout(() => void this.close(), IDLE_MS).unref();
      }
    });
    const fail = (reason: string): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const entry of this.pending.values()) entry.reject(new Error(`report worker stopped: ${reason}`));
      this.pending.clear();
    };
    worker.on('error', (error) => fail(messageOf(error)));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }
}

/** Nice value of the worker thread: when both compete for a core, the event loop wins. */
const WORKER_NICE = 10;

/**
 * Lowers this thread's scheduling priority. On Linux setpriority() takes a
 * thread id, found through /proc/thread-self; elsewhere the thread keeps the process's priority.
 */
function lowerThreadPriority(): void {
  try {
    const threadId = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    if (Number.isInteger(threadId) && threadId > 0) os.setPriority(threadId, WORKER_NICE);
  } catch {
    // Not Linux, or not allowed: the work still runs off the event loop.
  }
}

// The worker side: answer each job, errors as plain data.
if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === ROLE) {
  lowerThreadPriority();
  const port = parentPort;
  const answer = async ({ id, job, input }: Request): Promise<void> => {
    try {
      const value = await (JOBS[job] as (input: unknown) => unknown)(input);
      port.postMessage({ id, value } satisfies Reply);
    } catch (error) {
      const status = error instanceof UserError ? error.status : undefined;
      port.postMessage({ id, error: { message: messageOf(error), status, stack: (error as Error)?.stack } } satisfies Reply);
    }
  };
  port.on('message', (request: Request) => void answer(request));
}
