/**
 * Clients written by others, replayed: each request is sent byte for byte as
 * the client sends it (method, path, headers, body) over a raw socket to a
 * real server, and must get what the model gives. The callers are those of
 * public Python versions of the original project (requests, curl, subprocess
 * curl; the data file under every name they use, in the query or the body, on
 * GET and POST, uploaded as multipart, through a doubled slash) and MLflow's
 * ScoringServerClient and documented curl calls. Every answer is checked
 * against the served OpenAPI document.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningApp, type ServerDeps } from '../src/app.js';
import { runDeployment } from '../src/deployment.js';
import { runIngestion } from '../src/ingestion.js';
import { readDataset } from '../src/lib/data/dataset.js';
import { silentLogger } from '../src/lib/log.js';
import { loadModelFile, predictProbabilities, type ModelFile } from '../src/lib/model/model-file.js';
import { PACKAGE_VERSION } from '../src/lib/project.js';
import { runScoring, type ScoringResult } from '../src/scoring.js';
import { runTraining } from '../src/training.js';
import { assertNoContractViolations, checkAnswer, contractOf, type ApiContract } from './api-contract.js';
import { assertClose, makeProject, type TempProject, OFFLINE_DEPS } from './helpers.js';

const OFFLINE: ServerDeps = OFFLINE_DEPS;
const REQUESTS_HEADERS = {
  'User-Agent': 'python-requests/2.31.0',
  'Accept-Encoding': 'gzip, deflate',
  Accept: '*/*',
  Connection: 'keep-alive',
};
const CURL_HEADERS = { 'User-Agent': 'curl/7.88.1', Accept: '*/*' };

/** A request as a client puts it on the wire (Host and Content-Length are added as the client would). */
interface Wire {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** An answer read off the wire. */
interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Sends the exact bytes of a request and reads one answer (Content-Length framed, as the API answers). */
function sendRaw(url: string, wire: Wire): Promise<WireAnswer> {
  const { hostname, port } = new URL(url);
  const headers: Record<string, string> = { Host: `${hostname}:${port}`, ...wire.headers };
  if (wire.body !== undefined && headers['Transfer-Encoding'] === undefined) headers['Content-Length'] = String(wire.body.length);
  const head = [`${wire.method} ${wire.path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const answerHeaders = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      const length = Number(answerHeaders['content-length']);
      if (received.length - end - 4 < length) return;
      socket.destroy();
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers: answerHeaders,
        text: received.subarray(end + 4, end + 4 + length).toString('utf8'),
      });
    });
    socket.on('error', reject);
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), wire.body ?? Buffer.alloc(0)]));
  });
}

/** A multipart body as urllib3 (requests) or curl writes it: one part per entry, files with a file name. */
function multipart(
  boundary: string,
  parts: { name: string; filename?: string; type?: string; content: string | Buffer }[],
): { body: Buffer; type: string } {
  const chunks = parts.flatMap(({ name, filename, type, content }) => [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n` +
        (type ? `Content-Type: ${type}\r\n` : '') +
        '\r\n',
    ),
    Buffer.from(content),
    Buffer.from('\r\n'),
  ]);
  return { body: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]), type: `multipart/form-data; boundary=${boundary}` };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value, null, 0).replace(/":/g, '": ').replace(/,"/g, ', "'));

describe('clients of the original project and of MLflow, replayed byte for byte', () => {
  let project: TempProject;
  let server: RunningApp;
  let contract: ApiContract;
  let model: ModelFile;
  let score: ScoringResult;
  let testCsv: Buffer;

  before(async () => {
    project = makeProject();
    await runIngestion(project.config);
    await runTraining(project.config);
    score = await runScoring(project.config);
    await runDeployment(project.config);
    model = loadModelFile(path.join(project.config.prod_deployment_path, 'trainedmodel.json'));
    testCsv = fs.readFileSync(path.join(project.root, 'testdata', 'testdata.csv'));
    server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE);
    contract = await contractOf(server.url);
  });
  after(async () => {
    await server?.close();
    assertNoContractViolations();
  });

  const columnsOf = (relative: string) => readDataset(path.join(project.root, relative), project.config.schema);

  /** What an answer must be. */
  type Expect =
    | { predictions: string } // /prediction answer for the rows of this data file
    | { classes: string; rows?: number } // /invocations answer for the first `rows` rows of this data file
    | { scoring: true }
    | { ready: true }
    | { version: true };

  const testdataRecords = (rows: number) => {
    const data = columnsOf('testdata/testdata.csv');
    return Array.from({ length: rows }, (_, r) => Object.fromEntries(data.features.map((f, c) => [f, data.columns[c][r]])));
  };
  const firstRows = (rows: number): Buffer =>
    Buffer.from(
      testCsv
        .toString('utf8')
        .split('\n')
        .slice(0, rows + 1)
        .join('\n') + '\n',
    );

  const calls: { client: string; wire: () => Wire; expect: Expect }[] = [
    ...['file_location', 'filelocation', 'filename', 'file_name', 'filepath', 'file_path', 'datapath'].map((key) => ({
      client: `requests.post(URL + "/prediction", json={"${key}": "testdata/testdata.csv"})`,
      wire: (): Wire => ({
        method: 'POST',
        path: '/prediction',
        headers: { ...REQUESTS_HEADERS, 'Content-Type': 'application/json' },
        body: json({ [key]: 'testdata/testdata.csv' }),
      }),
      expect: { predictions: 'testdata/testdata.csv' },
    })),
    {
      client: 'requests.post(URL + "/prediction?filelocation=testdata/testdata.csv")',
      wire: () => ({
        method: 'POST',
        path: '/prediction?filelocation=testdata/testdata.csv',
        headers: { ...REQUESTS_HEADERS, 'Content-Length': '0' },
      }),
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: "Node's http.request(URL + '/prediction?file_location=...', { method: 'POST' }).end() (an empty chunked body)",
      wire: () => ({
        method: 'POST',
        path: '/prediction?file_location=testdata/testdata.csv',
        headers: { Connection: 'keep-alive', 'Transfer-Encoding': 'chunked' },
        body: Buffer.from('0\r\n\r\n'),
      }),
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: 'requests.get(URL + "/prediction", params={"filename": "testdata/testdata.csv"})',
      wire: () => ({ method: 'GET', path: '/prediction?filename=testdata%2Ftestdata.csv', headers: REQUESTS_HEADERS }),
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: 'requests.get(URL + "/prediction", json={"filepath": "ingesteddata/finaldata.csv"})',
      wire: () => ({
        method: 'GET',
        path: '/prediction',
        headers: { ...REQUESTS_HEADERS, 'Content-Type': 'application/json' },
        body: json({ filepath: 'ingesteddata/finaldata.csv' }),
      }),
      expect: { predictions: 'ingesteddata/finaldata.csv' },
    },
    {
      client: 'requests.post(URL + "/prediction", data={"file_path": "testdata/testdata.csv"})',
      wire: () => ({
        method: 'POST',
        path: '/prediction',
        headers: { ...REQUESTS_HEADERS, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: Buffer.from('file_path=testdata%2Ftestdata.csv'),
      }),
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: 'requests.post(URL + "/prediction", files={"file": open("testdata/testdata.csv", "rb")})',
      wire: () => {
        const { body, type } = multipart('6b3c1a0f9e2d4c5b8a7f6e5d4c3b2a19', [
          { name: 'file', filename: 'testdata.csv', content: testCsv },
        ]);
        return { method: 'POST', path: '/prediction', headers: { ...REQUESTS_HEADERS, 'Content-Type': type }, body };
      },
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: 'requests.post(URL + "/prediction", json={"records": [...]})',
      wire: () => ({
        method: 'POST',
        path: '/prediction',
        headers: { ...REQUESTS_HEADERS, 'Content-Type': 'application/json' },
        body: json({ records: testdataRecords(columnsOf('testdata/testdata.csv').rows) }),
      }),
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: "curl 'http://127.0.0.1:8000/prediction?filename=testdata/testdata.csv'",
      wire: () => ({ method: 'GET', path: '/prediction?filename=testdata/testdata.csv', headers: CURL_HEADERS }),
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: "curl -X POST 'http://127.0.0.1:8000/prediction?filepath=testdata/testdata.csv' (no body)",
      wire: () => ({ method: 'POST', path: '/prediction?filepath=testdata/testdata.csv', headers: CURL_HEADERS }),
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: "subprocess curl -X POST URL + '/prediction?datapath=...' with URL ending in a slash (//prediction)",
      wire: () => ({ method: 'POST', path: '//prediction?datapath=testdata/testdata.csv', headers: CURL_HEADERS }),
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: 'curl -F data=@testdata/testdata.csv http://127.0.0.1:8000/prediction',
      wire: () => {
        const { body, type } = multipart('------------------------d74496d66958873e', [
          { name: 'data', filename: 'testdata.csv', type: 'application/octet-stream', content: testCsv },
        ]);
        return { method: 'POST', path: '/prediction', headers: { ...CURL_HEADERS, 'Content-Type': type }, body };
      },
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: "curl -F 'filename=testdata/testdata.csv' http://127.0.0.1:8000/prediction (a form field naming the file)",
      wire: () => {
        const { body, type } = multipart('------------------------0123456789abcdef', [
          { name: 'filename', content: 'testdata/testdata.csv' },
        ]);
        return { method: 'POST', path: '/prediction', headers: { ...CURL_HEADERS, 'Content-Type': type }, body };
      },
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: "curl -X POST -H 'Content-Type: text/csv' --data-binary @testdata/testdata.csv http://127.0.0.1:8000/prediction",
      wire: () => ({ method: 'POST', path: '/prediction', headers: { ...CURL_HEADERS, 'Content-Type': 'text/csv' }, body: testCsv }),
      expect: { predictions: 'testdata/testdata.csv' },
    },
    {
      client: "curl 'http://127.0.0.1:8000//scoring' (the original's apicalls with a trailing-slash URL)",
      wire: () => ({ method: 'GET', path: '//scoring', headers: CURL_HEADERS }),
      expect: { scoring: true },
    },
    {
      client: 'mlflow ScoringServerClient.wait_server_ready(): GET /ping',
      wire: () => ({ method: 'GET', path: '/ping', headers: REQUESTS_HEADERS }),
      expect: { ready: true },
    },
    {
      client: 'mlflow ScoringServerClient.get_version(): GET /version',
      wire: () => ({ method: 'GET', path: '/version', headers: REQUESTS_HEADERS }),
      expect: { version: true },
    },
    {
      client: 'mlflow ScoringServerClient.invoke(DataFrame): {"dataframe_split": DataFrame.to_dict(orient="split")}',
      wire: () => {
        const data = columnsOf('testdata/testdata.csv');
        const rows = Array.from({ length: 8 }, (_, r) => [data.ids[r], ...data.columns.map((c) => c[r])]);
        const split = { index: [...rows.keys()], columns: [project.config.schema.id_column, ...data.features], data: rows };
        return {
          method: 'POST',
          path: '/invocations',
          headers: { ...REQUESTS_HEADERS, 'Content-Type': 'application/json' },
          body: json({ dataframe_split: split }),
        };
      },
      expect: { classes: 'testdata/testdata.csv', rows: 8 },
    },
    {
      client:
        "curl http://127.0.0.1:5000/invocations -H 'Content-Type:application/json' --data '{\"dataframe_records\": [...]}' (MLflow docs)",
      wire: () => ({
        method: 'POST',
        path: '/invocations',
        headers: { ...CURL_HEADERS, 'Content-Type': 'application/json' },
        body: Buffer.from(JSON.stringify({ dataframe_records: testdataRecords(5) })),
      }),
      expect: { classes: 'testdata/testdata.csv', rows: 5 },
    },
    {
      client: "curl http://127.0.0.1:5000/invocations -H 'Content-Type: application/json' -d '{\"inputs\": {column: [...]}}' (MLflow docs)",
      wire: () => {
        const data = columnsOf('testdata/testdata.csv');
        const inputs = Object.fromEntries(data.features.map((f, c) => [f, Array.from(data.columns[c].subarray(0, 4))]));
        return {
          method: 'POST',
          path: '/invocations',
          headers: { ...CURL_HEADERS, 'Content-Type': 'application/json' },
          body: Buffer.from(JSON.stringify({ inputs })),
        };
      },
      expect: { classes: 'testdata/testdata.csv', rows: 4 },
    },
    {
      client: "curl http://127.0.0.1:5000/invocations -H 'Content-Type: text/csv;charset=UTF-8' --data-binary @data.csv (MLflow docs)",
      wire: () => ({
        method: 'POST',
        path: '/invocations',
        headers: { ...CURL_HEADERS, 'Content-Type': 'text/csv;charset=UTF-8' },
        body: firstRows(6),
      }),
      expect: { classes: 'testdata/testdata.csv', rows: 6 },
    },
  ];

  for (const { client, wire, expect } of calls) {
    test(client, async () => {
      const request = wire();
      const res = await sendRaw(server.url, request);
      checkAnswer(contract, {
        method: request.method,
        url: request.path,
        status: res.status,
        contentType: res.headers['content-type'],
        body: res.text,
      });
      assert.equal(res.status, 200, res.text.slice(0, 300));
      if ('predictions' in expect) {
        const body = JSON.parse(res.text);
        const wanted = predictProbabilities(model, columnsOf(expect.predictions).columns);
        assert.equal(body.probabilities.length, wanted.length);
        wanted.forEach((p, i) => assertClose(body.probabilities[i], p, 1e-12, `probabilities[${i}]`));
        assert.deepEqual(
          body.predictions,
          Array.from(wanted, (p) => (p > 0.5 ? 1 : 0)),
        );
        assert.equal(body.model_version, 1);
      } else if ('classes' in expect) {
        const columns = columnsOf(expect.classes).columns.map((c) => c.subarray(0, expect.rows));
        assert.deepEqual(JSON.parse(res.text), { predictions: Array.from(predictProbabilities(model, columns), (p) => (p > 0.5 ? 1 : 0)) });
      } else if ('scoring' in expect) {
        assertClose(JSON.parse(res.text).f1, score.f1, 1e-12, 'f1');
      } else if ('ready' in expect) {
        assert.equal(JSON.parse(res.text).model_version, 1);
      } else {
        assert.equal(res.text, PACKAGE_VERSION);
      }
    });
  }
});
