/**
 * What the HTTP server itself answers and bounds, below Express:
 *
 * - errors Node's parser finds before there is a request (a malformed request
 *   line, a bad chunk, headers too large, a request too slow) and an Expect
 *   it does not meet are answered as every other error is: JSON
 *   `{"error": ...}` with its status (400, 431, 408, 417), not a bare status line;
 * - a request target in absolute form (`GET http://host:port/health`, which
 *   RFC 9112 requires servers to accept) is routed as its origin form (`/health`);
 * - connections are bounded in time: the headers within `headersMs`, the whole
 *   request within `requestMs`, no traffic at all for `idleMs` ends a
 *   connection, and so does a client that stops reading its answer for
 *   `writeStallMs` (what is buffered for it is released at once, rather than
 *   held for as long as the client cares to keep the connection open).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

/** The time bounds of a connection. */
export interface ConnectionTimeouts {
  headersMs: number;
  requestMs: number;
  idleMs: number;
  writeStallMs: number;
}

/** The defaults: generous for real clients, short enough that stalled ones do not pile up. */
export const DEFAULT_TIMEOUTS: ConnectionTimeouts = { headersMs: 20_000, requestMs: 120_000, idleMs: 30_000, writeStallMs: 30_000 };

/** The status and message for an error Node's HTTP parser reports (see Node's own clientError answer). */
function parserAnswer(error: NodeJS.ErrnoException): [number, string, string] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large', 'the request headers are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', 'the request did not arrive in time'];
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_EOF_STATE':
      return [400, 'Bad Request', 'invalid chunked body'];
    default:
      return [400, 'Bad Request', `malformed request (${error.code ?? 'unreadable'})`];
  }
}

/** A whole HTTP answer with a JSON error body, for a socket without a response object. */
function rawJsonAnswer(status: number, reason: string, message: string): string {
  const body = JSON.stringify({ error: message });
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** `http://host:port/path?q` → `/path?q`; an origin-form target is returned as it is. */
export function originForm(url: string): string {
  if (url.startsWith('/')) return url;
  const match = /^https?:\/\/[^/?#]*(.*)$/i.exec(url);
  if (!match) return url;
  const rest = match[1];
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
}

/** Routes a request in absolute form as its origin form (call first in the request handler). */
export function normalizeTarget(req: IncomingMessage): void {
  if (req.url !== undefined && !req.url.startsWith('/')) req.url = originForm(req.url);
}

/** Ends a connection whose client has not taken what was written to it for `ms`. */
function watchWriteStall(socket: Socket, ms: number): void {
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    if (socket.writableLength === 0) {
      clearTimeout(timer);
      timer = undefined;
    } else if (timer === undefined) {
      timer = setTimeout(() => socket.destroy(), ms);
      timer.unref();
    }
  };
  // Node calls socket.write for every answer; whatever it could not hand to the kernel waits in writableLength.
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = (...args: unknown[]) => {
    const flushed = write(...args);
    if (!flushed) check();
    return flushed;
  };
  socket.on('drain', check);
  socket.once('close', () => clearTimeout(timer));
}

/** Installs the guards on `server`. */
export function guardConnections(server: Server, timeouts: ConnectionTimeouts = DEFAULT_TIMEOUTS): void {
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;
  server.timeout = timeouts.idleMs;
  server.on('connection', (socket: Socket) => watchWriteStall(socket, timeouts.writeStallMs));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, message] = parserAnswer(error);
    socket.end(rawJsonAnswer(status, reason, message));
  });
  server.on('checkExpectation', (req: IncomingMessage, res) => {
    const body = JSON.stringify({ error: `expectation "${String(req.headers.expect).slice(0, 40)}" is not supported (only 100-continue)` });
    res.writeHead(417, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      Connection: 'close',
    });
    res.end(body);
  });
}
