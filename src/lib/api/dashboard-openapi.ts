/** The dashboard's operations in the OpenAPI document (openapi.ts adds them to the others). */
import { OUTCOMES } from '../dashboard/views.js';
import { DASHBOARD_ASSETS, DASHBOARD_FILES } from './dashboard-routes.js';

type Json = Record<string, unknown>;

const json = (schema: Json, description: string): Json => ({ description, content: { 'application/json': { schema } } });
const errorResponse = (name: string): Json => ({ $ref: '#/components/responses/' + name });
const object = (required: string[], properties: Json): Json => ({ type: 'object', required, properties });
const nullable = (type: string): Json => ({ type: [type, 'null'] });

const chart = {
  oneOf: [
    { type: 'null' },
    object(['svg', 'width', 'height', 'alt'], {
      svg: { type: 'string', description: 'SVG rendered on the server from the Vega-Lite spec (the report uses the same specs)' },
      width: { type: 'number' },
      height: { type: 'number' },
      alt: { type: 'string', description: 'What the chart shows, in words' },
    }),
  ],
};

const tickRow = object(
  ['run_id', 'started_at', 'duration_ms', 'outcome', 'decision', 'new_files', 'new_file_count', 'version_before', 'version_after'],
  {
    run_id: { type: 'string' },
    started_at: { type: 'string' },
    duration_ms: { type: 'number' },
    outcome: { enum: [...OUTCOMES] },
    decision: { type: 'string' },
    new_files: { type: 'array', items: { type: 'string' }, description: 'the first few names' },
    new_file_count: { type: 'integer' },
    version_before: nullable('integer'),
    version_after: nullable('integer'),
    error: nullable('string'),
  },
);

const page = (name: string, description: string): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'integer', minimum: name === 'limit' ? 1 : 0, ...(name === 'limit' ? { maximum: 200 } : {}) },
});

const tags = ['Dashboard'];
const DATA_DESCRIPTION =
  "Built on the report worker thread (off the event loop) and cached until a file behind the dashboard changes (the status answer's revision).";
const data = (operationId: string, summary: string, schema: Json, extra: Json = {}): Record<string, Json> => ({
  get: {
    tags,
    operationId,
    summary,
    description: DATA_DESCRIPTION,
    ...extra,
    responses: { 200: json(schema, summary), ...(extra.responses ?? {}) },
  },
});

/** The dashboard's operations by Express path. */
export function dashboardOperations(): Record<string, Record<string, Json>> {
  return {
    '/': {
      get: {
        tags,
        operationId: 'getRoot',
        summary: 'Redirects to the dashboard',
        description: 'A browser opening the server lands on the dashboard.',
        responses: { 302: { description: 'Location: dashboard', headers: { Location: { schema: { type: 'string' } } } } },
      },
    },
    '/dashboard': {
      get: {
        tags,
        operationId: 'getDashboard',
        description:
          'Open without the token (a browser cannot send a bearer header when it navigates); the page holds no data and asks for the token when the API has one, keeping it for the tab only.',
        summary:
          "The engineer's dashboard (a page without data: its script asks for the data routes, with the bearer token when one is set)",
        responses: { 200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/dashboard/:asset': {
      get: {
        tags,
        operationId: 'getDashboardAsset',
        summary: "The dashboard's script and style",
        description: "Served by the API itself (no CDN), under the content security policy `script-src 'self'`.",
        parameters: [{ name: 'asset', in: 'path', required: true, schema: { enum: [...DASHBOARD_ASSETS] } }],
        responses: {
          200: {
            description: 'The file',
            content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } },
          },
          404: errorResponse('NotFound'),
        },
      },
    },
    '/dashboard/data/status': data(
      'getDashboardStatus',
      'The status strip: served version, newest and decisive tick, warnings; the revision changes when any file behind the dashboard changes',
      object(
        ['revision', 'generated_at', 'health', 'headline', 'served', 'newest_tick', 'decisive_tick', 'warnings', 'schedule', 'ticks'],
        {
          revision: { type: 'string' },
          generated_at: { type: 'string', format: 'date-time' },
          health: { enum: ['healthy', 'retrained', 'rejected', 'failing', 'unchecked', 'undeployed'] },
          headline: { type: 'string' },
          served: {
            oneOf: [
              { type: 'null' },
              object(['version', 'since', 'test_f1'], {
                version: { type: 'integer' },
                since: nullable('string'),
                test_f1: nullable('number'),
              }),
            ],
          },
          newest_tick: { oneOf: [{ type: 'null' }, tickRow] },
          decisive_tick: { oneOf: [{ type: 'null' }, tickRow] },
          warnings: {
            type: 'array',
            items: object(['kind', 'text'], { kind: { enum: ['undeployed', 'failed', 'rejected', 'overdue'] }, text: { type: 'string' } }),
          },
          schedule: object(['expression', 'period_seconds'], { expression: { type: 'string' }, period_seconds: nullable('number') }),
          ticks: object(['total', 'by_outcome'], {
            total: { type: 'integer' },
            by_outcome: { type: 'object', additionalProperties: { type: 'integer' } },
          }),
        },
      ),
    ),
    '/dashboard/data/ticks': data(
      'getDashboardTicks',
      'A page of the run history, newest first',
      object(['total', 'offset', 'limit', 'outcome', 'rows'], {
        total: { type: 'integer', description: 'ticks of the outcome asked for' },
        offset: { type: 'integer' },
        limit: { type: 'integer' },
        outcome: { oneOf: [{ type: 'null' }, { enum: [...OUTCOMES] }] },
        rows: { type: 'array', items: tickRow },
      }),
      {
        parameters: [
          { name: 'outcome', in: 'query', required: false, description: 'only ticks of this outcome', schema: { enum: [...OUTCOMES] } },
          page('offset', 'ticks to skip, newest first (default 0)'),
          page('limit', 'ticks to answer (default 25)'),
        ],
      },
    ),
    '/dashboard/data/timeline': data(
      'getDashboardTimeline',
      'The run history as a chart: time bins per outcome',
      object(['ticks', 'chart'], { ticks: { type: 'integer' }, chart }),
    ),
    '/dashboard/data/versions': data(
      'getDashboardVersions',
      'Every deployed version, newest first, with its F1s, gate figures, coefficient changes and rollback command',
      object(['current', 'versions', 'f1_chart'], {
        current: nullable('integer'),
        f1_chart: chart,
        versions: {
          type: 'array',
          items: object(['version', 'current', 'deployed_at', 'test_f1', 'gate', 'checks', 'coefficients', 'rollback_command'], {
            version: { type: 'integer' },
            current: { type: 'boolean' },
            deployed_at: { type: 'string' },
            origin: { type: 'string' },
            test_f1: nullable('number'),
            trained_rows: nullable('integer'),
            gate: {
              oneOf: [
                { type: 'null' },
                object(['candidate_f1', 'deployed_f1', 'text'], {
                  candidate_f1: { type: 'number' },
                  deployed_f1: nullable('number'),
                  text: { type: 'string' },
                }),
              ],
            },
            checks: object(['count', 'newest'], { count: { type: 'integer' }, newest: { type: 'array', items: { type: 'object' } } }),
            coefficients: {
              type: 'array',
              items: object(['feature', 'coefficient', 'previous', 'change'], {
                feature: { type: 'string' },
                coefficient: { type: 'number' },
                previous: nullable('number'),
                change: nullable('number'),
              }),
            },
            compared_with: nullable('integer'),
            rollback_command: { ...nullable('string'), description: 'null for the current version' },
          }),
        },
      }),
    ),
    '/dashboard/data/drift': data(
      'getDashboardDrift',
      'The newest drift check per feature (training against new distributions) and PSI across checks',
      object(['threshold', 'newest', 'psi_chart', 'checks'], {
        threshold: { type: 'number' },
        checks: { type: 'integer' },
        psi_chart: chart,
        newest: {
          oneOf: [
            { type: 'null' },
            object(['run_id', 'started_at', 'outcome', 'features'], {
              run_id: { type: 'string' },
              started_at: { type: 'string' },
              outcome: { enum: [...OUTCOMES] },
              features: {
                type: 'array',
                items: object(['feature', 'psi', 'p_value', 'test', 'drifted', 'chart'], {
                  feature: { type: 'string' },
                  psi: nullable('number'),
                  p_value: nullable('number'),
                  test: nullable('string'),
                  drifted: { type: 'boolean' },
                  chart,
                }),
              },
            }),
          ],
        },
      }),
    ),
    '/dashboard/data/clients': data(
      'getDashboardClients',
      'A page of the call list, riskiest first, searchable by client id',
      object(['model_version', 'data_file', 'id_column', 'total', 'matched', 'clients'], {
        model_version: { type: 'integer' },
        data_file: { type: 'string' },
        id_column: { type: 'string' },
        total: { type: 'integer', description: 'clients on the list' },
        matched: { type: 'integer', description: 'clients whose id contains the search' },
        clients: {
          type: 'array',
          items: object(['rank', 'id', 'id_length', 'probability', 'reasons'], {
            rank: { type: 'integer' },
            id: { type: 'string', description: 'shortened to 120 characters' },
            id_length: { type: 'integer' },
            probability: { type: 'number' },
            reasons: { type: 'array', items: { type: 'string' } },
          }),
        },
      }),
      {
        parameters: [
          {
            name: 'search',
            in: 'query',
            required: false,
            description: 'part of a client id (any case)',
            schema: { type: 'string', maxLength: 1000 },
          },
          page('offset', 'clients to skip (default 0)'),
          page('limit', 'clients to answer (default 25)'),
        ],
        responses: { 503: errorResponse('Unavailable') },
      },
    ),
    '/dashboard/data/summary': data(
      'getDashboardSummary',
      'Summary statistics and missing shares per column of the ingested data',
      object(['data_file', 'rows', 'columns'], {
        data_file: { type: 'string' },
        rows: { type: 'integer' },
        columns: {
          type: 'array',
          items: object(['name', 'role', 'mean', 'median', 'std', 'count', 'min', 'max', 'missing', 'missing_percent'], {
            name: { type: 'string' },
            role: { enum: ['feature', 'target', 'id', 'other'] },
            ...Object.fromEntries(['mean', 'median', 'std', 'min', 'max'].map((key) => [key, nullable('number')])),
            count: { type: 'integer' },
            missing: { type: 'integer' },
            missing_percent: { type: 'number', description: '0-100' },
          }),
        },
      }),
      { responses: { 503: errorResponse('Unavailable') } },
    ),
    '/dashboard/files/:file': {
      get: {
        tags,
        operationId: 'getDashboardFile',
        description: 'The files the dashboard offers as downloads, as the stages wrote them; 404 until they exist.',
        summary: 'Downloads: the whole call list (riskscores.csv) and the report (report.pdf)',
        parameters: [{ name: 'file', in: 'path', required: true, schema: { enum: [...DASHBOARD_FILES] } }],
        responses: {
          200: {
            description: 'The file, as an attachment',
            content: {
              'text/csv': { schema: { type: 'string' } },
              'application/pdf': { schema: { type: 'string', contentMediaType: 'application/pdf' } },
            },
          },
          404: errorResponse('NotFound'),
        },
      },
    },
  };
}
