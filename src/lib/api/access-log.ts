/**
 * The access log: one line a request at info level, through the app's logger
 * (so a JSON line on stderr off a terminal):
 *
 *   {"time":"…","level":"info","component":"app:access","msg":"POST /prediction 200",
 *    "method":"POST","route":"/prediction","path":"/prediction","status":200,"duration_ms":1.84,"rows":2}
 *
 * `rows` is the number of rows the request predicted (null when it predicts nothing).
 */
import type { Logger } from '../log.js';
import type { AnsweredRequest } from './metrics-routes.js';

/** Longest request path written (a path is chosen by the caller, so it is cut, not trusted). */
const MAX_PATH = 200;

/** A listener for ApiMetrics.observe that logs each answered request. */
export function accessLog(log: Logger): (request: AnsweredRequest) => void {
  const access = log.child('access');
  return ({ method, route, path, status, seconds, rows }) => {
    access.info(`${method} ${route} ${status}`, {
      method,
      route,
      path: path.length > MAX_PATH ? path.slice(0, MAX_PATH) + '…' : path,
      status,
      duration_ms: Math.round(seconds * 1e5) / 100,
      rows,
    });
  };
}
