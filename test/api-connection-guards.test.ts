/**
 * What the server answers and bounds below Express (connection-guards.ts):
 * errors of Node's own HTTP parser and an unmet Expect are JSON with their
 * status; an absolute-form request target is routed as its origin form; error
 * messages keep the request's whole path; clients that stop reading their
 * answers are disconnected once their answers stall (a bounded number of raw
 * sockets on loopback, each awaited until the server closes it).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startServer, type RunningApp } from '../src/app.js';
import { silentLogger } from '../src/lib/log.js';
import { assertNoContractViolations, servedApp } from './api-contract.js';
import { deployedProject, OFFLINE_DEPS, type TempProject } from './helpers.js';

/** Writes raw bytes and reads until the server closes the connection. */
function exchange(url: string, bytes: string): Promise<{ status: number; headers: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.split(' ')[1]), headers: text.slice(0, end), body: text.slice(end + 4) });
    });
    socket.end(bytes);
  });
}

const RECORD = { lastmonth_activity: 100, lastyear_activity: 1200, number_of_employees: 40 };

describe('the server below Express', () => {
  let project: TempProject;
  let server: RunningApp;
  before(async () => {
    project = await deployedProject();
    server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, {
      ...OFFLINE_DEPS,
      timeouts: { writeStallMs: 300, idleMs: 300 },
    });
  });
  after(async () => {
    await server.close();
    assertNoContractViolations();
  });

  const host = (): string => new URL(server.url).host;
  const parserCases = [
    { name: 'a malformed request line', bytes: () => 'THIS IS NOT HTTP\r\n\r\n', status: 400, error: /malformed request/ },
    {
      name: 'a bad chunk',
      bytes: () => `POST /prediction HTTP/1.1\r\nHost: ${host()}\r\nTransfer-Encoding: chunked\r\nContent-Type: text/csv\r\n\r\nzz\r\n`,
      status: 400,
      error: /invalid chunked body|malformed request/,
    },
    {
      name: 'headers over the size limit',
      bytes: () => `GET /health HTTP/1.1\r\nHost: ${host()}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      status: 431,
      error: /headers are too large/,
    },
    {
      name: 'an Expect other than 100-continue',
      bytes: () => `GET /health HTTP/1.1\r\nHost: ${host()}\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n`,
      status: 417,
      error: /expectation "200-ok" is not supported/,
    },
  ];
  for (const { name, bytes, status, error } of parserCases) {
    test(`${name}: ${status} with a JSON error`, async () => {
      const answer = await exchange(server.url, bytes());
      assert.equal(answer.status, status);
      assert.match(answer.headers, /content-type: application\/json/i);
      assert.match((JSON.parse(answer.body) as { error: string }).error, error);
    });
  }

  for (const [name, bytes] of [
    ['GET', (port: string) => `GET http://127.0.0.1:${port}/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`],
    [
      'POST on the hot path',
      (port: string) => {
        const body = JSON.stringify({ records: [RECORD] });
        return `POST http://127.0.0.1:${port}/prediction HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
      },
    ],
  ] as const) {
    test(`an absolute-form target is routed as its origin form (${name})`, async () => {
      const answer = await exchange(server.url, bytes(new URL(server.url).port));
      assert.equal(answer.status, 200, answer.body);
      assert.equal((JSON.parse(answer.body) as { model_version: number }).model_version, 1);
    });
  }

  test('error messages name the whole path', async () => {
    const app = servedApp(project.config);
    const notAllowed = await request(app).put('/health/live');
    assert.equal(notAllowed.status, 405);
    assert.equal(notAllowed.body.error, 'PUT is not allowed on /health/live (use GET)');
    const missing = await request(app).get('/no/such/endpoint');
    assert.equal(missing.body.error, 'no such endpoint: GET /no/such/endpoint');
  });

  test('clients that stop reading are disconnected once their answers stall', { timeout: 60_000 }, async () => {
    const { port } = new URL(server.url);
    const pipelined = `GET /openapi.json HTTP/1.1\r\nHost: ${host()}\r\n\r\n`.repeat(200);
    const sockets = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const socket = net.connect(Number(port), '127.0.0.1');
        // Never read: what the server sends piles up in the kernel's buffers, then in the server's.
        socket.pause();
        socket.on('error', () => {});
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.write(pipelined);
        return socket;
      }),
    );
    // A client that does not read cannot see the server close: the server's count of connections says it.
    await server.connectionsDownTo(0);
    for (const socket of sockets) socket.destroy();
    assert.equal((await fetch(`${server.url}/health`)).status, 200, 'the server still serves');
  });
});
