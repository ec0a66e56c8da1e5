/**
 * Every way of naming data for /prediction keeps the guards of the first one:
 * a file outside the data folders is 403 before anything is read (named in
 * the query, under a JSON alias, in a form or multipart field), a file named
 * twice or a query parameter given twice is 400, naming a file and also
 * sending rows is 400, a multipart body needs exactly one file, an upload over
 * the body limit is 413. Each answer is a JSON error naming the problem,
 * without a stack trace or server path, checked against the OpenAPI document;
 * the next good request is still served.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import type { Config } from '../src/lib/config.js';
import { assertError, assertNoContractViolations, servedApp, type TestApp } from './api-contract.js';
import { FIXTURES, type TempProject, deployedProject } from './helpers.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
const GOOD_RECORD = { lastmonth_activity: 100, lastyear_activity: 1200, number_of_employees: 40 };
const CSV = `${FEATURES.join(',')}\n100,1200,40\n`;

after(assertNoContractViolations);

const serve = (config: Config): TestApp => servedApp(config);

async function deployed(extra?: Record<string, unknown>): Promise<TempProject> {
  const project = await deployedProject({ extra });
  return project;
}

describe('/prediction guards every way of naming data', () => {
  let project: TempProject;
  let app: TestApp;
  before(async () => {
    project = await deployed();
    app = serve(project.config);
    const testdata = path.join(project.root, 'testdata');
    fs.symlinkSync(project.configFile, path.join(testdata, 'outside.csv'));
    fs.copyFileSync(path.join(FIXTURES, 'api', 'bad-feature.csv'), path.join(testdata, 'bad-feature.csv'));
    // A named pipe outside the data folders: reading it would block, so a prompt 403 shows nothing was read.
    execFileSync('mkfifo', [path.join(project.root, 'pipe.csv')]);
  });

  const form = (a: TestApp, body: string, url = '/prediction') =>
    request(a).post(url).set('Content-Type', 'application/x-www-form-urlencoded').send(body);
  const cases: { name: string; status: number; error: RegExp; send: (a: TestApp) => request.Test }[] = [
    // Outside the data folders: 403, before reading.
    {
      name: 'query ?filename=../x.csv',
      status: 403,
      error: /query parameter "filename" must lie inside/,
      send: (a) => request(a).post('/prediction?filename=../x.csv'),
    },
    {
      name: 'query ?file_location=/etc/passwd on GET',
      status: 403,
      error: /query parameter "file_location" must lie inside/,
      send: (a) => request(a).get('/prediction?file_location=/etc/passwd'),
    },
    {
      name: 'query ?datapath=testdata/../config.json (escaping through ..)',
      status: 403,
      error: /query parameter "datapath" must lie inside/,
      send: (a) => request(a).get('/prediction?datapath=testdata/../config.json'),
    },
    {
      name: 'query ?filepath=models/trainedmodel.json (the model folder)',
      status: 403,
      error: /must lie inside/,
      send: (a) => request(a).get('/prediction?filepath=models/trainedmodel.json'),
    },
    {
      name: 'query naming a named pipe outside the folders (answered without reading it)',
      status: 403,
      error: /query parameter "file_path" must lie inside/,
      send: (a) => request(a).get('/prediction?file_path=pipe.csv'),
    },
    {
      name: 'query naming a link in testdata leading outside',
      status: 403,
      error: /query parameter "filelocation" leads outside/,
      send: (a) => request(a).get('/prediction?filelocation=testdata/outside.csv'),
    },
    {
      name: 'JSON alias {"filepath": "/etc/passwd"}',
      status: 403,
      error: /"filepath" must lie inside/,
      send: (a) => request(a).post('/prediction').send({ filepath: '/etc/passwd' }),
    },
    {
      name: 'JSON alias {"file_name": "../config.json"}',
      status: 403,
      error: /"file_name" must lie inside/,
      send: (a) => request(a).post('/prediction').send({ file_name: '../config.json' }),
    },
    {
      name: 'GET with a JSON body {"datapath": "pipe.csv"}',
      status: 403,
      error: /"datapath" must lie inside/,
      send: (a) => request(a).get('/prediction').send({ datapath: 'pipe.csv' }),
    },
    {
      name: 'form field file_path=../config.json',
      status: 403,
      error: /form field "file_path" must lie inside/,
      send: (a) => form(a, 'file_path=..%2Fconfig.json'),
    },
    {
      name: 'multipart field filename=/etc/passwd',
      status: 403,
      error: /form field "filename" must lie inside/,
      send: (a) => request(a).post('/prediction').field('filename', '/etc/passwd'),
    },
    // Named twice, or a query parameter given twice.
    {
      name: 'query ?filename=a&filename=b',
      status: 400,
      error: /query parameter "filename" is given 2 times: give it once/,
      send: (a) => request(a).get('/prediction?filename=testdata/testdata.csv&filename=testdata/testdata.csv'),
    },
    {
      name: 'a repeated query parameter elsewhere (/runs?limit=1&limit=2)',
      status: 400,
      error: /query parameter "limit" is given 2 times/,
      send: (a) => request(a).get('/runs?limit=1&limit=2'),
    },
    {
      name: 'query naming the file under two names',
      status: 400,
      error: /name the data file once: got query parameter "file_location" and query parameter "filename"/,
      send: (a) => request(a).get('/prediction?filename=testdata/testdata.csv&file_location=testdata/testdata.csv'),
    },
    {
      name: 'JSON naming the file under two keys',
      status: 400,
      error: /name the data file once: got "file_location" and "filename"/,
      send: (a) => request(a).post('/prediction').send({ filename: 'testdata/testdata.csv', file_location: 'testdata/testdata.csv' }),
    },
    {
      name: 'query and JSON both naming a file',
      status: 400,
      error: /name the data file once: got query parameter "filename" and "file_location"/,
      send: (a) => request(a).post('/prediction?filename=testdata/testdata.csv').send({ file_location: 'testdata/testdata.csv' }),
    },
    {
      name: 'a form field given twice',
      status: 400,
      error: /form field "file_path" is given 2 times/,
      send: (a) => form(a, 'file_path=testdata%2Ftestdata.csv&file_path=testdata%2Ftestdata.csv'),
    },
    {
      name: 'an empty query value ?filename=',
      status: 400,
      error: /query parameter "filename" must be a non-empty string/,
      send: (a) => request(a).get('/prediction?filename='),
    },
    {
      name: 'a missing file named in the query',
      status: 404,
      error: /query parameter "filename" "testdata\/nope\.csv" does not exist/,
      send: (a) => request(a).get('/prediction?filename=testdata/nope.csv'),
    },
    {
      name: 'a file with a bad cell named in the query',
      status: 400,
      error: /testdata\/bad-feature\.csv:2, column "lastyear_activity": "twelve"/,
      send: (a) => request(a).get('/prediction?filename=testdata/bad-feature.csv'),
    },
    // A file named and rows sent.
    {
      name: 'query naming a file with a records body',
      status: 400,
      error: /query parameter "filename" names a data file: send either a file name or rows/,
      send: (a) =>
        request(a)
          .post('/prediction?filename=testdata/testdata.csv')
          .send({ records: [GOOD_RECORD] }),
    },
    {
      name: 'query naming a file with a CSV body',
      status: 400,
      error: /query parameter "datapath" names a data file/,
      send: (a) => request(a).post('/prediction?datapath=testdata/testdata.csv').set('Content-Type', 'text/csv').send(CSV),
    },
    {
      name: 'JSON with file_location and records',
      status: 400,
      error: /"file_location" names a data file/,
      send: (a) =>
        request(a)
          .post('/prediction')
          .send({ file_location: 'testdata/testdata.csv', records: [GOOD_RECORD] }),
    },
    {
      name: 'multipart with an uploaded file and a filename field',
      status: 400,
      error: /form field "filename" names a data file/,
      send: (a) => request(a).post('/prediction').field('filename', 'testdata/testdata.csv').attach('file', Buffer.from(CSV), 'rows.csv'),
    },
    {
      name: 'query naming a file with an untyped body',
      status: 415,
      error: /missing Content-Type/,
      send: (a) => request(a).post('/prediction?filename=testdata/testdata.csv').send(Buffer.from(CSV)),
    },
    // Multipart bodies.
    {
      name: 'multipart without a file',
      status: 400,
      error: /the multipart body has no file: upload one CSV file/,
      send: (a) => request(a).post('/prediction').field('comment', 'hello'),
    },
    {
      name: 'multipart with two files',
      status: 400,
      error: /the multipart body has more than one file: upload one CSV file/,
      send: (a) => request(a).post('/prediction').attach('a', Buffer.from(CSV), 'a.csv').attach('b', Buffer.from(CSV), 'b.csv'),
    },
    {
      name: 'multipart with an empty file',
      status: 400,
      error: /uploaded file "empty\.csv" is empty/,
      send: (a) => request(a).post('/prediction').attach('file', Buffer.alloc(0), 'empty.csv'),
    },
    {
      name: 'an uploaded file with a bad cell',
      status: 400,
      error: /uploaded file "bad\.csv":3, column "lastyear_activity": "twelve" is not a finite number/,
      send: (a) =>
        request(a)
          .post('/prediction')
          .attach('file', Buffer.from(`${CSV}1,twelve,3\n`), 'bad.csv'),
    },
    {
      name: 'an uploaded file named like a path: only its base name is shown, nothing is read by that name',
      status: 400,
      error: /^uploaded file "passwd":2, column "lastmonth_activity"/,
      send: (a) =>
        request(a)
          .post('/prediction')
          .attach('file', Buffer.from(`${FEATURES.join(',')}\nroot,0,0\n`), '../../../etc/passwd'),
    },
    // Bytes that are not UTF-8 are never replaced (two rows could become one): 400 naming the line.
    {
      name: 'a CSV body with Latin-1 bytes',
      status: 400,
      error: /^request body:4: bytes that are not valid UTF-8 \(0xE9, byte 2 of the line\)/,
      send: (a) =>
        request(a)
          .post('/prediction')
          .set('Content-Type', 'text/csv')
          .send(Buffer.concat([Buffer.from(`${CSV}`), Buffer.from('1,2,3\n4\xe9,5,6\n', 'latin1')])),
    },
    {
      name: 'an uploaded file with Latin-1 bytes',
      status: 400,
      error: /^uploaded file "latin1\.csv":2: bytes that are not valid UTF-8/,
      send: (a) =>
        request(a)
          .post('/prediction')
          .attach('file', Buffer.concat([Buffer.from(`${FEATURES.join(',')}\n`), Buffer.from('1\xe9,2,3\n', 'latin1')]), 'latin1.csv'),
    },
    {
      name: 'a CSV body declared in another charset',
      status: 415,
      error: /charset "latin-1" is not read: send the CSV as UTF-8/,
      send: (a) => request(a).post('/prediction').set('Content-Type', 'text/csv; charset=latin-1').send(Buffer.from(CSV)),
    },
    {
      name: 'a multipart content type without a boundary',
      status: 400,
      error: /invalid multipart body/,
      send: (a) => request(a).post('/prediction').set('Content-Type', 'multipart/form-data').send('--x\r\n\r\n'),
    },
  ];

  for (const { name, status, error, send } of cases) {
    test(name, async () => {
      assertError(await send(app), status, error, project.root);
      const good = await request(app).get('/prediction?filename=testdata/testdata.csv');
      assert.equal(good.status, 200, good.text);
    });
  }
});

describe('an upload over api.body_limit gets 413', () => {
  let project: TempProject;
  let app: TestApp;
  before(async () => {
    project = await deployed({ api: { body_limit: '1kb' } });
    app = serve(project.config);
  });
  const big = `${FEATURES.join(',')}\n${'100,1200,40\n'.repeat(120)}`;

  const cases: { name: string; send: (a: TestApp) => request.Test }[] = [
    {
      name: 'a multipart upload with a declared length',
      send: (a) => request(a).post('/prediction').attach('file', Buffer.from(big), 'big.csv'),
    },
    {
      name: 'a URL-encoded form',
      send: (a) =>
        request(a)
          .post('/prediction')
          .set('Content-Type', 'application/x-www-form-urlencoded')
          .send(`filename=${'x'.repeat(2000)}`),
    },
    {
      name: 'a JSON body on GET',
      send: (a) =>
        request(a)
          .get('/prediction')
          .send({ records: Array.from({ length: 40 }, () => GOOD_RECORD) }),
    },
  ];
  for (const { name, send } of cases) {
    test(name, async () => {
      assertError(await send(app), 413, /request body is larger than the limit \(1kb\)/, project.root);
      assert.equal((await request(app).post('/prediction').attach('file', Buffer.from(CSV), 'small.csv')).status, 200);
    });
  }

  test('a chunked multipart upload (no declared length) over the limit', async () => {
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const boundary = 'chunked-boundary-1234';
      const answer = await new Promise<{ status: number; headers: Record<string, string | undefined>; text: string }>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          path: '/prediction',
          method: 'POST',
          headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, text }));
        });
        // The server may answer and close before the whole body is sent.
        req.on('error', (error: NodeJS.ErrnoException) =>
          error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
        );
        req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n`);
        for (let i = 0; i < 4; i++) req.write(big);
        req.end(`\r\n--${boundary}--\r\n`);
      });
      assertError(answer, 413, /request body is larger than the limit \(1kb\)/, project.root);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
