/**
 * Which endpoints apicalls calls, derived from the API's own OpenAPI document
 * (which the app builds from its route table): every GET and POST operation
 * that answers 200, but the documentation (the page, its assets and the
 * document itself) and paths with parameters. A new route is called without
 * editing a list here; only one that needs a request body or query says what
 * to send, in INPUTS. The probes go first, so that an API without a model
 * fails on GET /health with the reason.
 */

/** One request apicalls sends. */
export interface PlannedCall {
  method: 'GET' | 'POST';
  endpoint: string;
  body?: unknown;
}

/** What the requests that need input are made from. */
export interface PlanInputs {
  /** A data file the API may read (config-relative, inside test_data_path). */
  testFile: string;
  /** The model's feature names. */
  features: readonly string[];
}

/** The input of the operations that need one, by `METHOD path`. */
const INPUTS: Record<string, (inputs: PlanInputs) => Partial<PlannedCall>> = {
  'GET /prediction': ({ testFile }) => ({ endpoint: `/prediction?file_location=${encodeURIComponent(testFile)}` }),
  'POST /prediction': ({ testFile }) => ({ body: { file_location: testFile } }),
  'POST /invocations': ({ features }) => ({ body: { dataframe_records: [Object.fromEntries(features.map((f) => [f, 0]))] } }),
  'GET /risk': () => ({ endpoint: '/risk?top=20' }),
  'GET /runs': () => ({ endpoint: '/runs?limit=10' }),
};

/** The tag of the documentation operations, which apicalls leaves out. */
const DOCUMENTATION = 'Documentation';
const FIRST = 'Probes';

type Operation = { tags?: string[]; responses?: Record<string, unknown> };

/** The calls for an OpenAPI document (as GET /openapi.json serves it), in the document's order, probes first. */
export function plannedCalls(document: unknown, inputs: PlanInputs): PlannedCall[] {
  const paths = ((document ?? {}) as { paths?: Record<string, Record<string, Operation>> }).paths ?? {};
  const calls: { call: PlannedCall; first: boolean }[] = [];
  for (const [route, item] of Object.entries(paths)) {
    if (route.includes('{')) continue;
    for (const method of ['get', 'post'] as const) {
      const operation = item[method];
      if (!operation?.responses?.['200'] || operation.tags?.includes(DOCUMENTATION)) continue;
      const name = `${method.toUpperCase()} ${route}`;
      const call: PlannedCall = { method: method === 'get' ? 'GET' : 'POST', endpoint: route, ...INPUTS[name]?.(inputs) };
      calls.push({ call, first: operation.tags?.includes(FIRST) ?? false });
    }
  }
  return [...calls.filter((c) => c.first), ...calls.filter((c) => !c.first)].map((c) => c.call);
}
