/**
 * The few error classes the system throws on purpose. Each carries what decides
 * its handling: `exitCode` for the command line, `status` for HTTP.
 * Anything else that escapes is an unexpected failure (exit 1, HTTP 500).
 */

/** Base for errors caused by the caller: bad usage, config or input data (exit 2, HTTP 400). */
export class UserError extends Error {
  readonly exitCode: number = 2;
  readonly status: number = 400;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A config file that cannot be read or does not match the schema. */
export class ConfigError extends UserError {}

/** Where in a data file a problem was found. */
export interface DataLocation {
  file: string;
  line?: number;
  column?: string;
}

/** Invalid input data; the message names file, line and column where they are known. */
export class DataError extends UserError {
  readonly file: string;
  readonly line?: number;
  readonly column?: string;
  constructor(location: DataLocation, problem: string, options?: { cause?: unknown }) {
    super(formatLocation(location) + ': ' + problem, options);
    this.file = location.file;
    this.line = location.line;
    this.column = location.column;
  }
}

/** A request refused because it reaches outside what it may read (HTTP 403). */
export class ForbiddenError extends UserError {
  override readonly status = 403;
}

/** Something the caller asked for does not exist (HTTP 404, exit 2). */
export class NotFoundError extends UserError {
  override readonly status = 404;
}

/** A request body over the size limit (HTTP 413). */
export class PayloadTooLargeError extends UserError {
  override readonly status = 413;
}

/** A request body with a content type the endpoint does not read (HTTP 415). */
export class UnsupportedMediaTypeError extends UserError {
  override readonly status = 415;
}

/** The service cannot answer yet, e.g. no model is deployed (HTTP 503, exit 2). */
export class UnavailableError extends UserError {
  override readonly status = 503;
}

/** A service the stage depends on failed or could not be reached (exit 1, HTTP 502); expected, so no stack trace. */
export class ServiceError extends Error {
  readonly exitCode = 1;
  readonly status = 502;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceError';
  }
}

/** Formats `file:line, column "name"` for messages. */
export function formatLocation({ file, line, column }: DataLocation): string {
  let text = file;
  if (line !== undefined) text += `:${line}`;
  if (column !== undefined) text += `, column "${column}"`;
  return text;
}

/** Exit code for any thrown value: the error's own code, else 1 (unexpected failure). */
export function exitCodeOf(error: unknown): number {
  return error instanceof UserError || error instanceof ServiceError ? error.exitCode : 1;
}

/** Message text of any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
