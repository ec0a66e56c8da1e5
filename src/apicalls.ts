/**
 * apicalls: calls every endpoint of a running API and writes the consolidated
 * answers to `output_model_path/apireturns.txt`. An unreachable API or a
 * non-2xx answer is an error (exit 1) and nothing is written.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from './lib/cli.js';
import type { Config } from './lib/config.js';
import { ServiceError, UserError } from './lib/errors.js';
import { ensureFolder, writeJsonAtomic } from './lib/files.js';
import { silentLogger, type Logger } from './lib/log.js';
import { TEST_DATA } from './scoring.js';

export const API_RETURNS = 'apireturns.txt';

/** One call and its answer. */
export interface ApiCall {
  method: 'GET' | 'POST';
  endpoint: string;
  status: number;
  duration_ms: number;
  body: unknown;
}

/** Result of apicalls (also the content of apireturns.txt). */
export interface ApiCallsResult {
  base_url: string;
  called_at: string;
  calls: ApiCall[];
  output_file?: string;
}

/** Base URL of the API: `--url`, else config `api.url`, else http://api.host:api.port. */
export function apiBaseUrl(config: Config, override?: string): string {
  const url =
    override ?? config.api.url ?? `http://${config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host}:${config.api.port}`;
  return url.replace(/\/+$/, '');
}

async function call(
  baseUrl: string,
  token: string | null,
  method: 'GET' | 'POST',
  endpoint: string,
  body?: unknown,
  timeoutMs = 60_000,
): Promise<ApiCall> {
  const started = performance.now();
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(baseUrl + endpoint, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new ServiceError(`cannot reach the API at ${baseUrl} (${method} ${endpoint}: ${cause}); start it with npm run app`, {
      cause: error,
    });
  }
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!response.ok) {
    const reason =
      typeof parsed === 'object' && parsed !== null && 'error' in parsed
        ? String((parsed as { error: unknown }).error)
        : text.slice(0, 200);
    throw new ServiceError(`${method} ${endpoint} answered ${response.status}: ${reason}`);
  }
  return { method, endpoint, status: response.status, duration_ms: Math.round(performance.now() - started), body: parsed };
}

/** True when GET /health answers at all (any status) within `timeoutMs`. */
export async function isApiUp(config: Config, timeoutMs = 1500): Promise<boolean> {
  try {
    await fetch(apiBaseUrl(config) + '/health', { signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}

/** Calls every endpoint and writes apireturns.txt. */
export async function runApiCalls(
  config: Config,
  options: { url?: string; write?: boolean } = {},
  log: Logger = silentLogger,
): Promise<ApiCallsResult> {
  const baseUrl = apiBaseUrl(config, options.url);
  const token = config.api.token;
  const testFile = path.relative(config.baseFolder, path.join(config.test_data_path, TEST_DATA));
  const features = config.schema.features;
  const calls: ApiCall[] = [];
  calls.push(await call(baseUrl, token, 'GET', '/health'));
  calls.push(await call(baseUrl, token, 'POST', '/prediction', { file_location: testFile }));
  calls.push(await call(baseUrl, token, 'GET', '/scoring'));
  calls.push(await call(baseUrl, token, 'GET', '/summarystats'));
  calls.push(await call(baseUrl, token, 'GET', '/diagnostics'));
  const example = Object.fromEntries(features.map((feature) => [feature, 0]));
  calls.push(await call(baseUrl, token, 'POST', '/invocations', { dataframe_records: [example] }));
  calls.push(await call(baseUrl, token, 'GET', '/runs?limit=10'));
  calls.push(await call(baseUrl, token, 'GET', '/drift'));
  calls.push(await call(baseUrl, token, 'GET', '/metrics'));
  const result: ApiCallsResult = { base_url: baseUrl, called_at: new Date().toISOString(), calls };
  if (options.write ?? true) {
    ensureFolder(config.output_model_path);
    const file = path.join(config.output_model_path, API_RETURNS);
    writeJsonAtomic(file, result);
    result.output_file = file;
  }
  log.info(`called ${calls.length} endpoints of ${baseUrl}`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ url?: string }>({
    name: 'apicalls',
    description: 'Call every endpoint of the running API and write the answers to apireturns.txt',
    options: (program) => program.option('--url <url>', 'base URL of the API (default: api.url, else http://api.host:api.port)'),
    run: async (config, options, log) => {
      if (options.url !== undefined && !/^https?:\/\/[^\s]+$/.test(options.url))
        throw new UserError(`--url: "${options.url}" is not an http(s) URL`);
      const result = await runApiCalls(config, options, log);
      // The consolidated answers are in the file; stdout gets the summary.
      return {
        base_url: result.base_url,
        output_file: result.output_file,
        calls: result.calls.map(({ method, endpoint, status, duration_ms }) => ({ method, endpoint, status, duration_ms })),
      };
    },
  });
}
