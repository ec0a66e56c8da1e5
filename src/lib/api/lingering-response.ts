/**
 * Answers given before the request's body has arrived (a 413 for a declared
 * length over the limit, a 401 or a 404 that need not read the body) must
 * still reach the client. Node ends such a connection as soon as the answer is
 * written when the client asked `Connection: close` (Python's urllib always
 * does); the body still arriving then meets a closed socket, the kernel resets
 * the connection, and a client that writes the whole body before it reads
 * sees `Broken pipe` instead of the answer. Well-kept servers linger instead:
 * they send the answer, read and discard the rest of the body up to a bound,
 * and only then close (nginx's lingering close).
 *
 * `lingerOnEarlyAnswer` does that for every answer of the server, whichever
 * code gives it: the response's `end()` sends the answer at once, and when the
 * request still has body to come, finishes the response (which lets Node close a
 * `Connection: close` connection) only once the body has ended, the client has
 * gone, or the bound (bytes or time) is reached. A request that was read whole
 * costs one check.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How much of an unread body a server discards after an early answer, and for how long. */
export interface LingerBound {
  bytes: number;
  ms: number;
}

/** True when the request announces a body (a length above 0, or chunked). */
function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Reads and drops what is left of `req`'s body, then calls `done` once: at its
 * end, when the connection closes, or (with `overrun`) past `bound`.
 */
function discardBody(req: IncomingMessage, bound: LingerBound, done: (overrun: boolean) => void): void {
  let discarded = 0;
  let finished = false;
  const finish = (overrun: boolean): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onEnd);
    done(overrun);
  };
  const onData = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (discarded > bound.bytes) finish(true);
  };
  const onEnd = (): void => finish(false);
  const timer = setTimeout(() => finish(true), bound.ms);
  timer.unref();
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onEnd);
  req.resume();
}

/**
 * Makes `res` linger as described above when `req` announces a body (an own
 * `end`, since Express replaces the response's prototype with its own).
 */
export function lingerOnEarlyAnswer(req: IncomingMessage, res: ServerResponse, bound: LingerBound): void {
  if (!announcesBody(req)) return;
  const end = res.end.bind(res) as (chunk?: unknown, encoding?: unknown, callback?: unknown) => ServerResponse;
  res.end = function lingeringEnd(this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
    if (req.complete || req.destroyed || this.writableEnded) return end(chunk, encoding, callback);
    if (typeof chunk === 'function') [callback, chunk] = [chunk, undefined];
    if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined];
    // The connection ends after this answer: the body was refused, and whether all of it will be read is not known yet.
    if (!this.headersSent) this.setHeader('Connection', 'close');
    if (chunk !== undefined && chunk !== null) this.write(chunk, (encoding ?? 'utf8') as never);
    else this.flushHeaders();
    const socket = this.socket;
    discardBody(req, bound, (overrun) => {
      end(undefined, undefined, () => {
        // Past the bound the rest of the body is not waited for: the connection is dropped.
        if (overrun) socket?.destroy();
        if (typeof callback === 'function') (callback as () => void)();
      });
    });
    return this;
  } as ServerResponse['end'];
}
