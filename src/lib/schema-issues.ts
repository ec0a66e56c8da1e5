/**
 * The valibot pieces both JSON files (the config and the model file) use: an
 * object that is not an array, and each problem put as `key.path: what is
 * wrong`, in words the file's author reads.
 */
import * as v from 'valibot';

/** The keys leading to a value of a JSON document. */
type KeyPath = (string | number)[];

/** A JSON object (valibot alone would take an array for an object). */
export const jsonObject = v.custom<Record<string, unknown>>(
  (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
  (issue) => `expected object, got ${describeValue(issue.input)}`,
);

/** A JSON object with these keys; unknown keys are an error. */
export const strictObject = <Entries extends v.ObjectEntries>(entries: Entries) => v.pipe(jsonObject, v.strictObject(entries));

/** A JSON object with these keys; unknown keys are dropped. */
export const object = <Entries extends v.ObjectEntries>(entries: Entries) => v.pipe(jsonObject, v.object(entries));

/** The keys a strict object at a path may hold ('' for the top level), to name every unknown key. */
export type KnownKeys = Record<string, readonly string[]>;

/** Every problem of a failed parse of `document`, one line each, without repeats. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], document: unknown, known: KnownKeys = {}): string[] {
  return [...new Set(issues.map((issue) => describeIssue(issue, document, known)))];
}

function describeIssue(issue: v.BaseIssue<unknown>, document: unknown, known: KnownKeys): string {
  const keys: KeyPath = (issue.path ?? []).map((item) => item.key as string | number);
  const where = (path: KeyPath): string => (path.length > 0 ? path.join('.') : '(top level)');
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    // Valibot reports the first unknown key of an object only: list them all.
    const parent = keys.slice(0, -1);
    const allowed = known[parent.join('.')];
    const object = valueAt(document, parent) as Record<string, unknown>;
    const unknown = allowed ? Object.keys(object).filter((key) => !allowed.includes(key)) : keys.slice(-1);
    return `${where(parent)}: unknown key(s) ${unknown.map((key) => JSON.stringify(key)).join(', ')}`;
  }
  const given = valueAt(document, keys);
  if (given === undefined && issue.kind === 'schema') return `${where(keys)}: missing (required)`;
  if (issue.kind === 'schema' && ['string', 'number', 'boolean'].includes(issue.type)) {
    return `${where(keys)}: expected ${issue.type}, got ${describeValue(given)}`;
  }
  return `${where(keys)}: ${issue.message}`;
}

/** The value at a path of a JSON document (undefined when absent). */
function valueAt(value: unknown, keys: KeyPath): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A value as its author wrote it: its kind, then its JSON (cut to 40 characters). */
function describeValue(given: unknown): string {
  if (given === null) return 'null';
  // A document is parsed JSON, so its values all have a JSON text.
  const json = (JSON.stringify(given) ?? '').slice(0, 40);
  return `${Array.isArray(given) ? 'an array' : typeof given} ${json}`;
}
