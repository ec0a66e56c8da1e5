/**
 * latency-probe: an open-loop client, as a health probe is. It sends a request
 * every 1/rate seconds whether or not the last one has been answered, and
 * times each from when it was due, so a server that stalls for a second shows
 * a second of latency on every request due meanwhile (a closed-loop load
 * generator would just send fewer). Prints JSON: count, errors, p50/p99/max ms.
 *
 *   node dist/scripts/latency-probe.js <url> <rate per s> <seconds> [json body file]
 */
import fs from 'node:fs';
import http from 'node:http';

const [url, rateText, secondsText, bodyFile] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
if (!url || !(rate > 0) || !(seconds > 0)) {
  process.stderr.write('usage: latency-probe <url> <rate per s> <seconds> [json body file]\n');
  process.exit(2);
}
const body = bodyFile ? fs.readFileSync(bodyFile) : undefined;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const latencies: number[] = [];
let errors = 0;
let answered = 0;
const total = Math.round(rate * seconds);
const start = performance.now();

function send(due: number): void {
  const req = http.request(
    url,
    {
      agent,
      method: body ? 'POST' : 'GET',
      headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {},
      timeout: 30_000,
    },
    (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(performance.now() - due);
        else errors++;
        done();
      });
    },
  );
  req.on('error', () => {
    errors++;
    done();
  });
  req.end(body);
}

function done(): void {
  answered++;
  if (answered < total) return;
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
  process.stdout.write(
    JSON.stringify({ count: answered, errors, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: sorted[sorted.length - 1] ?? NaN }) + '\n',
  );
  agent.destroy();
}

// Each request is due at start + i / rate; a late timer sends every request already due.
let next = 0;
const tick = (): void => {
  const now = performance.now();
  while (next < total && start + (next * 1000) / rate <= now) send(start + (next++ * 1000) / rate);
  if (next < total) setTimeout(tick, Math.max(0, start + (next * 1000) / rate - performance.now()));
};
tick();
