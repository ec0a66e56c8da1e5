/** Talking to a running API from the command line: its address, whether it is up, one call. */
import type { Config } from '../config.js';
import { ServiceError } from '../errors.js';

/** One call and its answer. */
export interface ApiCall {
  method: 'GET' | 'POST';
  endpoint: string;
  status: number;
  duration_ms: number;
  body: unknown;
}

/** Base URL of the API: `override` (--url), else config `api.url`, else http://api.host:api.port. */
export function apiBaseUrl(config: Config, override?: string): string {
  const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
  const url = override ?? config.api.url ?? `http://${host}:${config.api.port}`;
  return url.replace(/\/+$/, '');
}

function authorization(token: string | null): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** What one call sends. */
export interface ApiRequest {
  method: 'GET' | 'POST';
  endpoint: string;
  body?: unknown;
  timeoutMs?: number;
}

/** Calls one endpoint; an unreachable API or a non-2xx answer is a ServiceError (exit 1). */
export async function callApi(baseUrl: string, token: string | null, request: ApiRequest): Promise<ApiCall> {
  const { method, endpoint, body, timeoutMs = 60_000 } = request;
  const started = performance.now();
  const headers = authorization(token);
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
    const reason = typeof parsed === 'object' && parsed !== null && 'error' in parsed ? String(parsed.error) : text.slice(0, 200);
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

/** Waits until the API serves `version` (it polls the store), at most `timeoutMs`. */
export async function waitForApiVersion(config: Config, version: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const headers = authorization(config.api.token);
  while (Date.now() < deadline) {
    try {
      const response = await fetch(apiBaseUrl(config) + '/health', { headers, signal: AbortSignal.timeout(1000) });
      const answer = (await response.json()) as { model_version?: number };
      if (answer.model_version === version) return;
    } catch {
      // not up or not yet switched
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
