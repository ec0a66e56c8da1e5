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

/** A JSON object of string keys to `value`s (valibot alone would take an array for a record). */
export const record = <Value extends v.GenericSchema>(value: Value) => v.pipe(jsonObject, v.record(v.string(), value));

/** Every problem of a failed parse of `document` by `schema`, one line each, without repeats. */
export function describeIssues(schema: v.GenericSchema, issues: readonly v.BaseIssue<unknown>[], document: unknown): string[] {
  return [...new Set(issues.map((issue) => describeIssue(schema, issue, document)))];
}

function describeIssue(schema: v.GenericSchema, issue: v.BaseIssue<unknown>, document: unknown): string {
  const keys: KeyPath = (issue.path ?? []).map((item) => item.key as string | number);
  const where = (path: KeyPath): string => (path.length > 0 ? path.join('.') : '(top level)');
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    // Valibot reports the first unknown key of an object only: list them all.
    const parent = keys.slice(0, -1);
    const allowed = entriesAt(schema, parent);
    const object = valueAt(document, parent) as Record<string, unknown>;
    const unknown = allowed ? Object.keys(object).filter((key) => !Object.hasOwn(allowed, key)) : keys.slice(-1);
    return `${where(parent)}: unknown key(s) ${unknown.map((key) => JSON.stringify(key)).join(', ')}`;
  }
  const given = valueAt(document, keys);
  if (given === undefined && issue.kind === 'schema') return `${where(keys)}: missing (required)`;
  if (issue.kind === 'schema' && ['string', 'number', 'boolean'].includes(issue.type)) {
    return `${where(keys)}: expected ${issue.type}, got ${describeValue(given)}`;
  }
  return `${where(keys)}: ${issue.message}`;
}

/** A schema as walked by `entriesAt`: objects hold entries, optional and pipe wrap other schemas. */
interface SchemaShape {
  entries?: Record<string, SchemaShape>;
  wrapped?: SchemaShape;
  pipe?: SchemaShape[];
}

/** The entries of the object schema that reads the value at `keys` (undefined when none does). */
function entriesAt(schema: v.GenericSchema, keys: KeyPath): Record<string, unknown> | undefined {
  let current: SchemaShape | undefined = schema as SchemaShape;
  const entries = (shape: SchemaShape | undefined): Record<string, SchemaShape> | undefined => {
    while (shape && !shape.entries) shape = shape.wrapped ?? shape.pipe?.find((item) => item.entries || item.wrapped || item.pipe);
    return shape?.entries;
  };
  for (const key of keys) current = entries(current)?.[key];
  return entries(current);
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
