/**
 * write-openapi: writes the document GET /openapi.json serves, as the built app
 * builds it, to files for the OpenAPI linters (`npm run lint:openapi` runs
 * Spectral and Redocly on them): one for an API without a token, one with a
 * bearer token configured (the two differ in their security and 401s).
 *
 *   node dist/scripts/write-openapi.js [--out <folder>]   # default: dist/openapi
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createApp } from '../src/lib/api/app.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import type { JobRunner } from '../src/lib/api/report-worker.js';
import { validateConfig } from '../src/lib/config.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The document the app serves for a config with these `api` keys, read over HTTP as a client reads it. */
async function servedDocument(api: { token?: string }): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'risk-openapi-'));
  try {
    for (const folder of ['input', 'testdata']) fs.mkdirSync(path.join(root, folder));
    const raw = {
      input_folder_path: 'input',
      output_folder_path: 'ingesteddata',
      test_data_path: 'testdata',
      output_model_path: 'models',
      prod_deployment_path: 'production_deployment',
      api,
    };
    const config = validateConfig(raw, path.join(root, 'config.json'));
    const watcher = new ModelWatcher(config.prod_deployment_path);
    const jobs: JobRunner = { run: () => Promise.reject(new Error('no data is read while writing the document')) };
    const app = createApp({ config, watcher, jobs });
    const server = http.createServer(app);
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const { port } = server.address() as AddressInfo;
      const headers = api.token ? { authorization: `Bearer ${api.token}` } : undefined;
      const answer = await fetch(`http://127.0.0.1:${port}/openapi.json`, { headers });
      if (!answer.ok) throw new Error(`GET /openapi.json answered ${answer.status}`);
      return JSON.stringify(await answer.json(), null, 2) + '\n';
    } finally {
      server.close();
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Writes openapi.json and openapi.secured.json into `folder`; returns their paths. */
export async function writeOpenApi(folder: string): Promise<string[]> {
  fs.mkdirSync(folder, { recursive: true });
  const written: string[] = [];
  for (const [name, api] of [
    ['openapi.json', {}],
    ['openapi.secured.json', { token: 'write-openapi-token' }],
  ] as const) {
    const file = path.join(folder, name);
    fs.writeFileSync(file, await servedDocument(api));
    written.push(file);
  }
  return written;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--out');
  const folder = at === -1 ? path.join(REPO, 'dist', 'openapi') : path.resolve(process.argv[at + 1] ?? '');
  for (const file of await writeOpenApi(folder)) process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
