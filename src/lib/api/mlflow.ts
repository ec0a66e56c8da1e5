/**
 * MLflow's scoring protocol, as its scoring server (mlflow/pyfunc/scoring_server)
 * speaks it: which content types /invocations reads, and the shape of its
 * errors, `{"error_code": "BAD_REQUEST", "message": "..."}`. Kept apart so the
 * rest of the API keeps its own `{"error": "..."}` answers.
 */
import type { NextFunction, Request, Response } from 'express';
import { UnsupportedMediaTypeError } from '../errors.js';

/** The paths that answer as MLflow's scoring server does. */
export const MLFLOW_PATHS: readonly string[] = ['/invocations'];

/** The media types MLflow's `/invocations` reads (it refuses text/plain, application/csv and the rest). */
export const MLFLOW_CONTENT_TYPES = ['application/json', 'text/csv'] as const;

/**
 * MLflow's error code for an HTTP status (its HTTP_STATUS_TO_ERROR_CODE in
 * mlflow/exceptions.py); statuses MLflow has no code for (405, 413, 415) are
 * the caller's mistake, BAD_REQUEST.
 */
export function mlflowErrorCode(status: number): string {
  const codes: Record<number, string> = {
    400: 'BAD_REQUEST',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'ENDPOINT_NOT_FOUND',
    503: 'TEMPORARILY_UNAVAILABLE',
  };
  return codes[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR');
}

/**
 * Refuses, with 415, what MLflow's `invocations()` refuses before reading the
 * body: a charset other than UTF-8, any content-type parameter but `charset`
 * (`format=pandas-split` is MLflow 1.x's), a type other than JSON or CSV. It
 * splits the header on `;` and `=` as MLflow does; the type's case is ignored
 * (MLflow compares it exactly).
 */
export function requireMlflowContentType(req: Request, _res: Response, next: NextFunction): void {
  const header = req.headers['content-type'];
  if (header === undefined) {
    next(new UnsupportedMediaTypeError(`missing Content-Type: send ${MLFLOW_CONTENT_TYPES.join(' or ')}`));
    return;
  }
  const [type, ...pairs] = header.split(';').map((part) => part.trim());
  const parameters = new Map(pairs.filter((pair) => pair !== '').map((pair) => splitPair(pair)));
  const charset = (parameters.get('charset') ?? 'utf-8').toLowerCase();
  parameters.delete('charset');
  if (charset !== 'utf-8') next(new UnsupportedMediaTypeError(`charset "${charset.slice(0, 40)}": the scoring server only supports UTF-8`));
  else if (parameters.size > 0)
    next(
      new UnsupportedMediaTypeError(
        `unrecognized content type parameters: ${[...parameters.keys()].map((key) => key.slice(0, 40)).join(', ')}`,
      ),
    );
  else if (!(MLFLOW_CONTENT_TYPES as readonly string[]).includes(type.toLowerCase()))
    next(
      new UnsupportedMediaTypeError(
        `unsupported Content-Type "${type.slice(0, 80)}": /invocations reads ${MLFLOW_CONTENT_TYPES.join(' or ')}`,
      ),
    );
  else next();
}

function splitPair(pair: string): [string, string] {
  const at = pair.indexOf('=');
  return at === -1 ? [pair.toLowerCase(), ''] : [pair.slice(0, at).trim().toLowerCase(), pair.slice(at + 1).trim()];
}
