/**
 * An answer given before the request's body has arrived (a 413 for a body
 * over the limit, a 401 without the token, a 404 for no such endpoint) reaches
 * clients that write the whole body before they read, as Python's urllib does
 * (it also asks `Connection: close`): the server reads and discards the rest of
 * the body before it closes, instead of closing on a client still sending
 * (which resets the connection and the client sees `Broken pipe`, not the answer).
 * JSON (the hot path), CSV and multipart bodies, with a declared length and chunked.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningApp } from '../src/app.js';
import { lingerOnEarlyAnswer } from '../src/lib/api/lingering-response.js';
import { silentLogger } from '../src/lib/log.js';
import { deployedProject, OFFLINE_DEPS } from './helpers.js';

/** Larger than the socket buffers on both sides of a loopback connection, so an early close is seen. */
const BODY_BYTES = 24 * 1024 * 1024;

/** What a client that writes before it reads gets. */
interface Received {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends a request head and its whole body, waits until every byte is handed to
 * the kernel (urllib's sendall), then reads the answer to the end of the connection.
 */
export function sendThenRead(url: string, head: string, body: Buffer): Promise<Received> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let sent = false;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      if (!sent) return;
      const received = Buffer.concat(chunks);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return reject(new Error(`no answer before the connection closed (${received.length} bytes)`));
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: received.subarray(end + 4).toString('utf8') });
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]), (error) => {
      if (error) return reject(error);
      sent = true;
      // Reading starts only now: whatever arrived meanwhile waits in the buffers, as for urllib.
      socket.end();
    });
  });
}

/** A body framed as chunked transfer encoding, in 64 KiB chunks. */
function chunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += 65536) {
    const piece = body.subarray(at, at + 65536);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

const ROW = 'lastmonth_activity,lastyear_activity,number_of_employees\n';
const csvBody = (): Buffer => Buffer.from(ROW + '10,20,30\n'.repeat(Math.floor(BODY_BYTES / 9)));
const jsonBody = (): Buffer =>
  Buffer.from(
    JSON.stringify({
      records: Array(Math.floor(BODY_BYTES / 80)).fill({ lastmonth_activity: 1, lastyear_activity: 2, number_of_employees: 3 }),
    }),
  );
const multipartBody = (): Buffer =>
  Buffer.concat([
    Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'),
    csvBody(),
    Buffer.from('\r\n--XyZ--\r\n'),
  ]);

describe('an early answer reaches a client that writes the whole body first', () => {
  let server: RunningApp;
  let bodies: Record<string, Buffer>;
  before(async () => {
    const project = await deployedProject({ extra: { api: { body_limit: '1kb', token: 'secret-token' } } });
    server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE_DEPS);
    bodies = { json: jsonBody(), csv: csvBody(), multipart: multipartBody() };
  });
  after(() => server.close());

  const types: Record<string, string> = {
    json: 'application/json',
    csv: 'text/csv',
    multipart: 'multipart/form-data; boundary=XyZ',
  };
  const cases = [
    ...['json', 'csv', 'multipart'].map((kind) => ({
      kind,
      path: '/prediction',
      token: true,
      status: 413,
      error: /larger than the limit/,
    })),
    { kind: 'json', path: '/invocations', token: true, status: 413, error: /larger than the limit/ },
    { kind: 'json', path: '/prediction', token: false, status: 401, error: /missing bearer token/ },
    { kind: 'csv', path: '/no-such-endpoint', token: true, status: 404, error: /no such endpoint/ },
  ];
  for (const framing of ['declared', 'chunked'] as const) {
    for (const { kind, path, token, status, error } of cases) {
      test(`${kind} to ${path}${token ? '' : ' without the token'}, ${framing} length: ${status} with its JSON error`, async () => {
        const body = bodies[kind];
        const head = [
          `POST ${path} HTTP/1.1`,
          `Host: ${new URL(server.url).host}`,
          'User-Agent: Python-urllib/3.11',
          'Connection: close',
          `Content-Type: ${types[kind]}`,
          ...(token ? ['Authorization: Bearer secret-token'] : []),
          framing === 'declared' ? `Content-Length: ${body.length}` : 'Transfer-Encoding: chunked',
          '',
          '',
        ].join('\r\n');
        const answer = await sendThenRead(server.url, head, framing === 'declared' ? body : chunked(body));
        assert.equal(answer.status, status);
        assert.match(answer.headers['content-type'], /^application\/json/);
        const parsed = JSON.parse(answer.body) as Record<string, string>;
        assert.match(parsed.error ?? parsed.message, error);
      });
    }
  }
});

describe('the rest of a refused body is read up to a bound', () => {
  /** A bare server that refuses every body at once, lingering up to `bytes`. */
  const refusing = async (bytes: number): Promise<{ url: string; server: http.Server }> => {
    const server = http.createServer((req, res) => {
      lingerOnEarlyAnswer(req, res, { bytes, ms: 60_000 });
      res.writeHead(413, { 'Content-Type': 'application/json', 'Content-Length': '13' }).end('{"error":"x"}');
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  };
  const head = (length: number): string => `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${length}\r\n\r\n`;

  test('within the bound the client gets the answer', async () => {
    const { url, server } = await refusing(BODY_BYTES);
    try {
      const answer = await sendThenRead(url, head(BODY_BYTES), Buffer.alloc(BODY_BYTES));
      assert.equal(answer.status, 413);
    } finally {
      server.close();
    }
  });

  test('past the bound the connection is dropped, not read to the end', async () => {
    const { url, server } = await refusing(1024 * 1024);
    try {
      await assert.rejects(sendThenRead(url, head(BODY_BYTES), Buffer.alloc(BODY_BYTES)), /EPIPE|ECONNRESET/);
    } finally {
      server.close();
    }
  });
});
