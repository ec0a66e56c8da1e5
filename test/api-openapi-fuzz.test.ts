/**
 * A property-based check of the OpenAPI document against the server, as a
 * fuzzer generated from /openapi.json does it: requests are generated from the
 * document itself (every path and documented method, OPTIONS and the methods
 * answered with 405 included, with and without the token, JSON bodies drawn
 * from the request schemas and then mutated), bounded and seeded so a failure
 * repeats. Two properties:
 *
 * - every answer is documented for its operation (status, content type and
 *   body schema: the contract check of api-contract.ts);
 * - a body the document accepts is not refused as bad input (400), but for
 *   the few constraints JSON Schema cannot state (rows as long as the columns,
 *   columns of equal length, an index as long as the data), and a body it
 *   refuses is never predicted for (200).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import request from 'supertest';
import { assertNoContractViolations, contractOf, servedApp, type TestApp } from './api-contract.js';
import { deployedProject } from './helpers.js';

type Json = Record<string, any>;

/** Requests generated per operation. */
const PER_OPERATION = 12;
const TOKEN = 'fuzz-token';
/** What the server refuses for reasons JSON Schema cannot state: the document says them in words. */
const INEXPRESSIBLE = [/has \d+ values for \d+ columns/, /column "[^"]+" has \d+ values, expected \d+/, /index/];

/** mulberry32: a small seeded generator, so a failing run repeats. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws values from a JSON schema of the document, sometimes breaking it (an arbitrary value instead). */
class Generator {
  constructor(
    private readonly document: Json,
    private readonly next: () => number,
  ) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Any JSON value, small. */
  arbitrary(depth = 0): unknown {
    const kinds = depth > 2 ? ['number', 'string', 'null', 'boolean'] : ['number', 'string', 'null', 'boolean', 'array', 'object'];
    switch (this.pick(kinds)) {
      case 'number':
        return this.pick([0, 1, -3.5, 1e6, 42]);
      case 'string':
        return this.pick(['', 'x', '12', ' 7 ', 'twelve', 'testdata/testdata.csv']);
      case 'null':
        return null;
      case 'boolean':
        return this.next() < 0.5;
      case 'array':
        return Array.from({ length: Math.floor(this.next() * 3) }, () => this.arbitrary(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: Math.floor(this.next() * 3) }, (_, i) => [`k${i}`, this.arbitrary(depth + 1)]));
    }
  }

  /** A value for `schema`; with probability `breakage` at each level, an arbitrary one. */
  value(schema: Json, breakage: number, depth = 0): unknown {
    if (schema.$ref) return this.value(this.document.components.schemas[(schema.$ref as string).split('/').pop()!], breakage, depth);
    if (depth > 0 && this.next() < breakage) return this.arbitrary(depth);
    if ('const' in schema) return schema.const;
    if (schema.enum) return this.pick(schema.enum as unknown[]);
    if (schema.oneOf) return this.value({ ...schema, oneOf: undefined, ...this.pick(schema.oneOf as Json[]) }, breakage, depth);
    if (schema.anyOf) return this.value({ ...schema, anyOf: undefined, ...this.pick(schema.anyOf as Json[]) }, breakage, depth);
    const type = Array.isArray(schema.type) ? this.pick(schema.type as string[]) : (schema.type as string | undefined);
    if (type === 'object' || schema.properties || schema.required) {
      const out: Record<string, unknown> = {};
      const properties = (schema.properties ?? {}) as Json;
      for (const key of Object.keys(properties)) {
        const required = ((schema.required ?? []) as string[]).includes(key);
        if (required ? this.next() > breakage / 2 : this.next() < 0.3) out[key] = this.value(properties[key] as Json, breakage, depth + 1);
      }
      for (const key of (schema.required ?? []) as string[])
        if (!(key in out) && this.next() > breakage) out[key] = this.arbitrary(depth + 1);
      return out;
    }
    if (type === 'array') {
      const length = Math.max(schema.minItems ?? 0, Math.floor(this.next() * 3));
      const items = (schema.items ?? {}) as Json;
      const values = Array.from({ length }, () => this.value(items, breakage, depth + 1));
      // `contains` (the columns of dataframe_split): put the wanted values in, when the schema lists them.
      for (const part of (schema.allOf ?? []) as Json[]) if (part.contains?.const !== undefined) values.push(part.contains.const);
      return values;
    }
    if (type === 'string') return schema.pattern ? this.pick(['12', ' 3.5 ', '', '1e3']) : this.pick(['testdata/testdata.csv', 'x']);
    if (type === 'integer') return this.pick([1, 2, 10]);
    if (type === 'number') return this.pick([0, 12.5, 300, -1]);
    if (type === 'null') return null;
    return this.arbitrary(depth);
  }
}

describe('requests generated from the OpenAPI document', () => {
  let app: TestApp;
  let document: Json;
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  const validators = new Map<string, ValidateFunction>();

  before(async () => {
    const project = await deployedProject({ extra: { api: { token: TOKEN } } });
    app = servedApp(project.config);
    ({ document } = await contractOf(app, TOKEN));
    ajv.addSchema({ $id: 'doc', components: document.components });
  });
  after(assertNoContractViolations);

  const accepts = (schema: Json, body: unknown): boolean => {
    const key = JSON.stringify(schema);
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile(JSON.parse(key.replaceAll('"#/components/', '"doc#/components/')) as Json);
      validators.set(key, validate);
    }
    return validate(body);
  };

  test('every answer is documented, and the document is as strict as the server', async () => {
    const next = random(22);
    const generator = new Generator(document, next);
    const mismatches: string[] = [];
    let sent = 0;
    for (const [template, item] of Object.entries(document.paths as Json)) {
      for (const [method, operation] of Object.entries(item as Json)) {
        if (method === 'parameters') continue;
        for (let i = 0; i < PER_OPERATION; i++) {
          const asset = (item.parameters ?? []).find((p: Json) => p.name === 'asset');
          const path = template.replace('{asset}', asset && next() < 0.8 ? String(generator.value(asset.schema as Json, 0)) : 'nope.js');
          const query = (operation.parameters ?? []).filter((p: Json) => p.in === 'query' && next() < 0.2);
          const search = query.map((p: Json) => `${p.name}=${encodeURIComponent(String(generator.value(p.schema as Json, 0.3)))}`);
          const url = path + (search.length > 0 ? `?${search.join('&')}` : '');
          let req = request(app)[method as 'get'](url);
          if (next() < 0.85) req = req.set('Authorization', `Bearer ${TOKEN}`);
          const schema = operation.requestBody?.content?.['application/json']?.schema as Json | undefined;
          let body: unknown;
          if (schema && next() < 0.9) {
            body = generator.value(schema, next() < 0.5 ? 0 : 0.25);
            req = req.set('Content-Type', 'application/json').send(JSON.stringify(body));
          }
          const res = await req;
          sent++;
          assert.notEqual(res.status, 599, res.text);
          if (body === undefined || res.status === 401 || search.length > 0) continue;
          const message = String(res.body?.error ?? res.body?.message ?? '');
          const valid = accepts(schema!, body);
          if (valid && res.status === 400 && !INEXPRESSIBLE.some((pattern) => pattern.test(message)))
            mismatches.push(
              `${method.toUpperCase()} ${url} ${JSON.stringify(body).slice(0, 200)}: the document accepts it, the server answers 400 ${message}`,
            );
          if (!valid && res.status === 200)
            mismatches.push(
              `${method.toUpperCase()} ${url} ${JSON.stringify(body).slice(0, 200)}: the document refuses it, the server predicts`,
            );
        }
      }
    }
    assert.deepEqual(mismatches, []);
    assert.ok(sent > 500, `${sent} requests sent`);
  });
});
