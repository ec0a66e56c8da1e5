/**
 * apicalls: calls every endpoint of a running API (those its OpenAPI document
 * lists, see endpoint-plan.ts) and writes the consolidated
 * answers to the API-returns file in `output_model_path`. An unreachable API or a
 * non-2xx answer is an error (exit 1) and nothing is written.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { apiBaseUrl, callApi, type ApiCall } from './lib/automation/api-client.js';
import { plannedCalls } from './lib/automation/endpoint-plan.js';
import { runCommand } from './lib/cli.js';
import type { Config } from './lib/config.js';
import { UserError } from './lib/errors.js';
import { ensureFolder, writeJsonAtomic } from './lib/store/files.js';
import { artefactPaths, FILE_NAMES } from './lib/layout.js';
import { silentLogger, type Logger } from './lib/log.js';

/** Result of apicalls (also the content of the API-returns file). */
export interface ApiCallsResult {
  base_url: string;
  called_at: string;
  calls: ApiCall[];
  output_file?: string;
}

/** Calls every endpoint and writes the API-returns file. */
export async function runApiCalls(
  config: Config,
  options: { url?: string; write?: boolean } = {},
  log: Logger = silentLogger,
): Promise<ApiCallsResult> {
  const baseUrl = apiBaseUrl(config, options.url);
  const paths = artefactPaths(config);
  const testFile = path.relative(config.baseFolder, paths.testData);
  // The endpoints come from the API's own document (built from its route table), so a new route is called too.
  const document = await callApi(baseUrl, config.api.token, { method: 'GET', endpoint: '/openapi.json' });
  const requests = plannedCalls(document.body, { testFile, features: config.schema.features });
  const calls: ApiCall[] = [];
  for (const request of requests) calls.push(await callApi(baseUrl, config.api.token, request));
  const result: ApiCallsResult = { base_url: baseUrl, called_at: new Date().toISOString(), calls };
  if (options.write ?? true) {
    ensureFolder(config.output_model_path);
    writeJsonAtomic(paths.apiReturns, result);
    result.output_file = paths.apiReturns;
  }
  log.info(`called ${calls.length} endpoints of ${baseUrl}`);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ url?: string }>({
    name: 'apicalls',
    description: `Call every endpoint of the running API and write the answers to ${FILE_NAMES.apiReturns}`,
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
