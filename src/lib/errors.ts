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
  readonly exitCode: number = 1;
  readonly status: number = 502;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The work is refused for now because other work holds the lock it needs (exit 1, HTTP 409); try again later. */
export class BusyError extends ServiceError {
  override readonly status = 409;
}

/** A file-system fault on a named path: a link loop, a permission error, a path under a regular file (exit 2). */
export class FileSystemError extends UserError {
  readonly code: string;
  readonly path: string;
  constructor(code: string, filePath: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.path = filePath;
  }
}

const FILE_SYSTEM_REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many levels of symbolic links (a link loop?)',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder, not a file',
  ENAMETOOLONG: 'the name is too long',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EMFILE: 'too many open files',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the folder is not empty',
  EBUSY: 'the resource is busy',
  EIO: 'an input/output error',
  EXDEV: 'the paths are on different file systems',
};

const VERBS: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  stat: 'read',
  lstat: 'read',
  scandir: 'list the folder',
  opendir: 'list the folder',
  mkdir: 'create the folder',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove',
  rm: 'remove',
  symlink: 'create the link',
  readlink: 'read the link',
  realpath: 'resolve',
  copyfile: 'copy',
  access: 'access',
  fsync: 'write',
};

/**
 * The FileSystemError for an operating-system error that names a path (every
 * `fs` error does), naming the path and the reason in words; undefined for
 * anything else. One place, so every stage reports these faults alike.
 */
export function asFileSystemError(error: unknown): FileSystemError | undefined {
  if (error instanceof FileSystemError) return error;
  const fault = error as NodeJS.ErrnoException & { dest?: string };
  if (!(fault instanceof Error) || typeof fault.code !== 'string' || typeof fault.path !== 'string') return undefined;
  const reason = FILE_SYSTEM_REASONS[fault.code] ?? fault.code;
  const verb = VERBS[fault.syscall ?? ''] ?? 'use';
  const target = fault.dest ? `${fault.path} -> ${fault.dest}` : fault.path;
  return new FileSystemError(fault.code, fault.path, `cannot ${verb} ${target}: ${reason} (${fault.code})`, { cause: error });
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
  const known = asFileSystemError(error) ?? error;
  return known instanceof UserError || known instanceof ServiceError ? known.exitCode : 1;
}

/** True for the errors the system raises on purpose (no stack trace needed in a log). */
export function isExpected(error: unknown): boolean {
  const known = asFileSystemError(error) ?? error;
  return known instanceof UserError || known instanceof ServiceError;
}

/** Message text of any thrown value. */
export function messageOf(error: unknown): string {
  const fileSystem = asFileSystemError(error);
  if (fileSystem) return fileSystem.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
