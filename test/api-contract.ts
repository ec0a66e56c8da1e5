/**
 * Holds the API to its own OpenAPI document: every answer the API tests
 * receive is checked against the document the app serves (GET /openapi.json):
 * the status must be documented for the operation (404 and 405 for unknown
 * paths and methods), the content type listed, and a JSON body must match the
 * documented schema (ajv, JSON Schema 2020-12 as OpenAPI 3.1 has it).
 *
 * `contractChecked(app)` wraps an app for supertest: a JSON answer that breaks
 * the document is replaced by a 599 naming the problem, and every violation
 * is kept for `assertNoContractViolations()` (called in an after hook).
 * `checkAnswer` does the same for answers a test got over real HTTP.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import request from 'supertest';
import { after } from 'node:test';
import { createApp, type AppDeps } from '../src/lib/api/app.js';
import type { Config } from '../src/lib/config.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import { OFFLINE_DEPS, REPO } from './helpers.js';

type Json = Record<string, any>;

/** What supertest drives: an app, or a listener wrapping one. */
export type TestApp = (req: IncomingMessage, res: ServerResponse) => void;

/** One answer as received. */
export interface Answer {
  method: string;
  url: string;
  status: number;
  contentType: string | undefined;
  body: string;
}

/** Violations seen by every checker in this test process. */
const violations: string[] = [];

/** The document's expectations, compiled once per document. */
export class ApiContract {
  private readonly ajv = addFormats.default(new Ajv2020({ strict: false, allErrors: true }));
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly paths: { pattern: RegExp; template: string }[];

  constructor(readonly document: Json) {
    this.paths = Object.keys(document.paths as Json).map((template) => ({
      template,
      pattern: new RegExp('^' + template.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+') + '/?$', 'i'),
    }));
  }

  /** The problems of one answer (empty when it matches the document). */
  problems(answer: Answer): string[] {
    // Not new URL(): it would read "//prediction" as a host.
    const path = answer.url.split('?')[0].replace(/\/{2,}/g, '/');
    const method = answer.method.toLowerCase() === 'head' ? 'get' : answer.method.toLowerCase();
    const where = `${answer.method} ${answer.url} -> ${answer.status}`;
    const template = this.paths.find((p) => p.pattern.test(path))?.template;
    let response: Json | undefined;
    let pointer: string;
    if (!template) {
      if (answer.status !== 404) return [`${where}: an undocumented path must answer 404`];
      response = this.document.components.responses.NotFound;
      pointer = '#/components/responses/NotFound';
    } else if (!this.document.paths[template][method]) {
      if (answer.status !== 405) return [`${where}: an undocumented method must answer 405`];
      response = this.document.components.responses.MethodNotAllowed;
      pointer = '#/components/responses/MethodNotAllowed';
    } else {
      response = this.document.paths[template][method].responses[String(answer.status)];
      pointer = `${template} ${method} ${answer.status}`;
      if (!response) return [`${where}: status ${answer.status} is not documented for ${method.toUpperCase()} ${template}`];
    }
    if (response?.$ref) {
      pointer = response.$ref as string;
      response = this.document.components.responses[pointer.split('/').pop()!];
    }
    if (!response?.content) return [];
    const type = (answer.contentType ?? '').split(';')[0].trim().toLowerCase();
    const media = response.content[type];
    if (!media) return [`${where}: content type "${type}" is not documented (${Object.keys(response.content).join(', ')})`];
    if (type !== 'application/json') return [];
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return [`${where}: the body is not JSON`];
    }
    const key = `${pointer} ${type}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ ...media.schema, components: this.document.components });
      this.validators.set(key, validate);
    }
    if (validate(body)) return [];
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
    return [`${where}: body does not match the documented schema: ${errors}; body ${answer.body.slice(0, 300)}`];
  }
}

/** Checks an answer a test received over HTTP; violations fail at once and are kept. */
export function checkAnswer(contract: ApiContract, answer: Answer): void {
  const problems = contract.problems(answer);
  violations.push(...problems);
  assert.deepEqual(problems, [], 'the answer matches the OpenAPI document');
}

/** The contract of an app, from the document it serves. */
export async function contractOf(app: Express | TestApp | string, token: string | null = null): Promise<ApiContract> {
  const req = request(app).get('/openapi.json');
  if (token) req.set('Authorization', `Bearer ${token}`);
  const res = await req;
  assert.equal(res.status, 200, `GET /openapi.json: ${res.text.slice(0, 200)}`);
  return new ApiContract(res.body as Json);
}

/**
 * A request listener that serves through `app` and checks every answer against
 * the app's own document (or `options.document`), keeping violations in
 * `options.violations` (by default the list assertNoContractViolations reads).
 */
export function contractChecked(
  app: Express,
  token: string | null = null,
  options: { document?: Json; violations?: string[] } = {},
): TestApp {
  const contract = options.document ? Promise.resolve(new ApiContract(options.document)) : contractOf(app, token);
  const seen = options.violations ?? violations;
  return (req, res) => {
    const chunks: Buffer[] = [];
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    const collect = (chunk: unknown): void => {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      collect(chunk);
      return write(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'function') collect(chunk);
      void contract.then((checker) => {
        const problems = checker.problems({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          status: res.statusCode,
          contentType: res.getHeader('content-type') as string | undefined,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        seen.push(...problems);
        if (problems.length > 0 && !res.headersSent) {
          const body = JSON.stringify({ error: `answer breaks the OpenAPI document: ${problems.join(' | ')}` });
          res.statusCode = 599;
          res.setHeader('content-type', 'application/json');
          res.setHeader('content-length', Buffer.byteLength(body));
          end(body);
          return;
        }
        end(chunk, ...rest);
      });
      return res;
    }) as typeof res.end;
    // The document itself is fetched through the app unchecked: wait for it before serving.
    void contract.then(() => app(req as never, res as never));
  };
}

/** Fails when any answer in this process broke the document. */
export function assertNoContractViolations(): void {
  assert.deepEqual(violations, [], 'every answer matches the OpenAPI document');
}

/** An answer as supertest gives it, or as read off the wire. */
interface ErrorAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  text: string;
}

/**
 * Asserts a JSON error answer: the status, `{error}` (MLflow's `{error_code, message}`
 * on /invocations) naming the problem, no stack trace or server path (`root`, the repository).
 */
export function assertError(res: ErrorAnswer, status: number, pattern: RegExp, root: string): void {
  assert.equal(res.status, status, `status of ${res.text.slice(0, 300)}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(res.text) as { error?: unknown; message?: unknown };
  const message = body.error ?? body.message;
  assert.equal(typeof message, 'string');
  assert.match(message as string, pattern);
  assert.doesNotMatch(res.text, /\n\s+at |\.(ts|js):\d+/, 'no stack trace');
  assert.ok(!res.text.includes(root), `no temp folder path in ${res.text}`);
  assert.ok(!res.text.includes(REPO), `no repository path in ${res.text}`);
}

const watchers: ModelWatcher[] = [];
after(() => watchers.forEach((watcher) => watcher.stop()));

/**
 * The API over `config`'s store, with offline timings and dependency checks
 * unless `deps` says otherwise, every answer checked against its document; its
 * model watcher (50 ms) stops after the file's tests.
 */
export function servedApp(config: Config, deps: Partial<AppDeps> = {}): TestApp {
  const watcher = new ModelWatcher(config.prod_deployment_path).start(50);
  watchers.push(watcher);
  return contractChecked(createApp({ config, watcher, ...OFFLINE_DEPS, ...deps }), config.api.token);
}
