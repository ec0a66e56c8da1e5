/**
 * The API's OpenAPI 3.1 document (GET /openapi.json), built from the app's
 * route table: every path and method the routers answer gets the operation
 * described here; one that has none is listed with `x-undocumented` (a test
 * fails on it), so the document cannot lose a route. Schemas are JSON Schema
 * 2020-12, as OpenAPI 3.1 has them, and the tests check every answer they
 * receive against them.
 */
import { FILE_NAMES } from '../layout.js';
import { FILE_LOCATION_KEYS } from './prediction-input.js';
import { MLFLOW_CONTENT_TYPES } from './mlflow.js';

/** A JSON object of the document. */
type Json = Record<string, unknown>;

/** What the document is built from. */
export interface ApiDescription {
  /** The routes as the route tables hold them: Express path to methods. */
  routes: ReadonlyMap<string, readonly string[]>;
  /** The numeric feature columns of the served model (or of the configured schema). */
  features: readonly string[];
  /** Its categorical feature columns. */
  categorical: readonly string[];
  /** The body size limit, as configured. */
  bodyLimit: string | number;
  /** Whether a bearer token is configured, and the paths answered without it. */
  secured: boolean;
  open: readonly string[];
  /** The package version. */
  version: string;
}

/** The assets GET /docs/{asset} serves (the docs page's script and Swagger UI's files). */
export const DOCS_ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'docs.js'] as const;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json, description: string): Json => ({ description, content: { 'application/json': { schema } } });
const text = (type: string, description: string): Json => ({ description, content: { [type]: { schema: { type: 'string' } } } });
const errorResponse = (name: string): Json => ({ $ref: `#/components/responses/${name}` });
/** An object schema with these properties and no others, `required` of them required. */
const closedObject = (required: string[], properties: Json): Json => ({
  type: 'object',
  required,
  additionalProperties: false,
  properties,
});

function components(features: readonly string[], categorical: readonly string[], bodyLimit: string | number, secured: boolean): Json {
  const featureValue = {
    description: 'Numeric feature: a finite number; a numeric string; null or "" for a missing value (imputed with the training median)',
    type: ['number', 'string', 'null'],
  };
  const levelValue = {
    description:
      'Categorical feature: its level as text, compared as written. A number or boolean is read as its JavaScript text (5 and 5.0 are both "5": send "5.0" as a string); null, "" or a missing key is the empty level; a level not seen in training adds nothing and is counted in unseen_levels',
    type: ['string', 'number', 'boolean', 'null'],
  };
  const record = {
    type: 'object',
    description:
      'One client: every numeric feature by name (categorical ones may be left out: the empty level); other keys (the id, the target) are ignored',
    required: [...features],
    properties: Object.fromEntries([
      ...features.map((feature): [string, Json] => [feature, featureValue]),
      ...categorical.map((feature): [string, Json] => [feature, levelValue]),
    ]),
  };
  const summaryKeys = ['mean', 'median', 'std', 'count', 'min', 'max'];
  const columnSummary = closedObject(
    summaryKeys,
    Object.fromEntries(summaryKeys.map((key) => [key, key === 'count' ? { type: 'integer' } : { type: ['number', 'null'] }])),
  );
  const nullableNumber = { type: ['number', 'null'] };
  const errorOf = (description: string): Json => json(ref('Error'), description);
  return {
    schemas: {
      Error: {
        type: 'object',
        description: 'A caller mistake (4xx) or an unexpected failure (500, without details); never a stack trace or a server path',
        required: ['error'],
        additionalProperties: false,
        properties: { error: { type: 'string' } },
      },
      MlflowError: {
        type: 'object',
        description: "MLflow's error shape; error_code is BAD_REQUEST for any 4xx but 401/403/404",
        required: ['error_code', 'message'],
        additionalProperties: false,
        properties: {
          error_code: {
            type: 'string',
            enum: [
              'BAD_REQUEST',
              'UNAUTHENTICATED',
              'PERMISSION_DENIED',
              'ENDPOINT_NOT_FOUND',
              'TEMPORARILY_UNAVAILABLE',
              'INTERNAL_ERROR',
            ],
          },
          message: { type: 'string' },
        },
      },
      Ready: closedObject(['status', 'model_version', 'loaded_at', 'deployed_at'], {
        status: { const: 'ok' },
        model_version: { type: 'integer', minimum: 1 },
        loaded_at: { type: 'string', format: 'date-time' },
        deployed_at: { type: 'string', format: 'date-time' },
      }),
      NotReady: closedObject(['status', 'error'], {
        status: { const: 'unavailable' },
        error: { type: 'string', description: 'why no model is served' },
      }),
      Record: record,
      Records: {
        type: 'object',
        required: ['records'],
        properties: { records: { type: 'array', minItems: 1, items: ref('Record') } },
      },
      FileLocation: {
        type: 'object',
        description: `A data file on the server, relative to the config file's folder, inside the input, ingested or test data folder. Named by exactly one of: ${FILE_LOCATION_KEYS.join(', ')}`,
        minProperties: 1,
        properties: Object.fromEntries(FILE_LOCATION_KEYS.map((key) => [key, { type: 'string', minLength: 1 }])),
        oneOf: FILE_LOCATION_KEYS.map((key) => ({ required: [key] })),
        example: { file_location: `testdata/${FILE_NAMES.testData}` },
      },
      Predictions: closedObject(['predictions', 'probabilities', 'model_version'], {
        predictions: { type: 'array', items: { type: 'integer', enum: [0, 1] }, description: '1 when the probability is above 0.5' },
        probabilities: {
          type: 'array',
          items: { type: 'number', minimum: 0, maximum: 1 },
          description: 'probability of the positive class: target = 1, or the second of schema.target_labels',
        },
        model_version: { type: 'integer', minimum: 1 },
        unseen_levels: {
          type: 'object',
          description: 'Present when some categorical cells held a level not seen in training: their number per feature (they add nothing)',
          additionalProperties: { type: 'integer', minimum: 1 },
        },
      }),
      MlflowInput: {
        type: 'object',
        description:
          'Exactly one of the four MLflow formats; other keys (params) are ignored. Rows as plain lists (instances/inputs of lists) are refused.',
        oneOf: [
          {
            required: ['dataframe_split'],
            properties: {
              dataframe_split: {
                type: 'object',
                required: ['columns', 'data'],
                properties: {
                  columns: { type: 'array', items: { type: 'string' } },
                  data: { type: 'array', items: { type: 'array' } },
                  index: { type: 'array' },
                },
              },
            },
          },
          { required: ['dataframe_records'], properties: { dataframe_records: { type: 'array', items: ref('Record') } } },
          {
            required: ['instances'],
            properties: {
              instances: {
                oneOf: [
                  { type: 'array', items: ref('Record') },
                  { type: 'object', additionalProperties: { type: 'array' } },
                ],
              },
            },
          },
          {
            required: ['inputs'],
            properties: {
              inputs: {
                oneOf: [
                  { type: 'array', items: ref('Record') },
                  { type: 'object', additionalProperties: { type: 'array' } },
                ],
              },
            },
          },
        ],
      },
      MlflowPredictions: closedObject(['predictions'], { predictions: { type: 'array', items: { type: 'integer', enum: [0, 1] } } }),
      Scores: closedObject(
        [
          'f1',
          'precision',
          'recall',
          'accuracy',
          'roc_auc',
          'log_loss',
          'confusion_matrix',
          'rows',
          'positives',
          'model_version',
          'data_file',
        ],
        {
          f1: { type: 'number' },
          precision: { type: 'number' },
          recall: { type: 'number' },
          accuracy: { type: 'number' },
          roc_auc: { ...nullableNumber, description: 'null when the test data holds one class only' },
          log_loss: { type: 'number' },
          confusion_matrix: {
            description: '[[TN, FP], [FN, TP]]',
            type: 'array',
            minItems: 2,
            maxItems: 2,
            items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'integer' } },
          },
          rows: { type: 'integer' },
          positives: { type: 'integer' },
          model_version: { type: 'integer' },
          data_file: { type: 'string' },
        },
      ),
      SummaryStatistics: closedObject(['data_file', 'rows', 'columns', 'categorical'], {
        data_file: { type: 'string' },
        rows: { type: 'integer' },
        columns: { type: 'object', additionalProperties: columnSummary, description: 'Numeric features and the target (as 0/1)' },
        categorical: {
          type: 'object',
          description:
            'Per categorical feature: filled cells, distinct levels, the most frequent levels (share of all rows) and empty cells',
          additionalProperties: closedObject(['count', 'levels', 'top', 'missing', 'missing_percent'], {
            count: { type: 'integer' },
            levels: { type: 'integer' },
            top: {
              type: 'array',
              items: closedObject(['level', 'count', 'share'], {
                level: { type: 'string' },
                count: { type: 'integer' },
                share: { type: 'number', minimum: 0, maximum: 1 },
              }),
            },
            missing: { type: 'integer' },
            missing_percent: { type: 'number', minimum: 0, maximum: 100 },
          }),
        },
      }),
      MissingData: closedObject(['data_file', 'rows', 'columns'], {
        data_file: { type: 'string' },
        rows: { type: 'integer' },
        columns: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['missing', 'percent'],
            additionalProperties: false,
            properties: { missing: { type: 'integer' }, percent: { type: 'number' } },
          },
        },
      }),
      Diagnostics: closedObject(['model_version', 'missing_data', 'timings', 'dependencies'], {
        model_version: { type: ['integer', 'null'] },
        missing_data: { oneOf: [ref('MissingData'), { type: 'null' }] },
        timings: {
          oneOf: [
            {
              type: 'object',
              required: ['status', 'ingestion_seconds', 'training_seconds', 'rows'],
              additionalProperties: false,
              properties: {
                status: { const: 'ok' },
                ingestion_seconds: { type: 'number' },
                training_seconds: { type: 'number' },
                rows: { type: 'integer' },
              },
            },
            {
              type: 'object',
              required: ['status', 'reason'],
              additionalProperties: false,
              properties: { status: { const: 'unavailable' }, reason: { type: 'string' } },
            },
          ],
        },
        dependencies: {
          type: 'object',
          required: ['status', 'checked_at', 'duration_ms', 'packages'],
          additionalProperties: false,
          properties: {
            status: { enum: ['ok', 'unavailable'] },
            reason: { type: 'string' },
            checked_at: { type: 'string' },
            duration_ms: { type: 'number' },
            packages: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'type', 'current', 'wanted', 'latest', 'outdated'],
                additionalProperties: false,
                properties: {
                  name: { type: 'string' },
                  type: { enum: ['dependencies', 'devDependencies'] },
                  current: { type: ['string', 'null'] },
                  wanted: { type: ['string', 'null'] },
                  latest: { type: ['string', 'null'] },
                  outdated: { type: 'boolean' },
                },
              },
            },
          },
        },
      }),
      Outcome: { enum: ['bootstrapped', 'no-new-data', 'no-drift', 'redeployed', 'rejected', 'locked', 'failed'] },
      Run: {
        type: 'object',
        description: 'One fullprocess run (the run history record; more keys as the record grows)',
        required: ['run_id', 'started_at', 'outcome'],
        properties: {
          run_id: { type: 'string' },
          started_at: { type: 'string' },
          finished_at: { type: 'string' },
          outcome: ref('Outcome'),
          config_file: { type: 'string' },
          decision: { type: 'string' },
          version_before: { type: ['integer', 'null'] },
          version_after: { type: ['integer', 'null'] },
          error: { type: ['string', 'null'] },
          notes: { type: 'array', items: { type: 'string' } },
          refreshed: { type: 'array', items: { enum: ['diagnostics', 'report'] }, description: 'Outputs this tick refreshed' },
        },
      },
      RiskList: closedObject(['model_version', 'data_file', 'clients'], {
        model_version: { type: 'integer' },
        data_file: { type: 'string' },
        clients: {
          type: 'array',
          description: 'Clients still with us (newest row per id has target 0), riskiest first',
          items: {
            type: 'object',
            required: ['probability', 'reasons'],
            description: 'The id under the schema id column name, its probability and the contributions to its log-odds, largest first',
            properties: {
              probability: { type: 'number', minimum: 0, maximum: 1 },
              reasons: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['feature', 'value', 'contribution'],
                  additionalProperties: false,
                  properties: {
                    feature: { type: 'string' },
                    value: {
                      type: ['number', 'string', 'null'],
                      description: 'the number as read (null: missing), or the level of a categorical feature',
                    },
                    contribution: { type: 'number' },
                  },
                },
              },
            },
          },
        },
      }),
      Drift: {
        oneOf: [
          closedObject(['drift', 'reason'], { drift: { type: 'null' }, reason: { type: 'string' } }),
          closedObject(['run_id', 'started_at', 'outcome', 'model_drift', 'data_drift'], {
            run_id: { type: 'string' },
            started_at: { type: 'string' },
            outcome: ref('Outcome'),
            model_drift: { type: ['object', 'null'] },
            data_drift: { type: ['object', 'null'] },
          }),
        ],
      },
    },
    responses: {
      BadRequest: errorOf('Bad input, named in the message (a query parameter given twice, for one)'),
      Unauthorized: errorOf('Missing or wrong bearer token (only when api.token is configured)'),
      Forbidden: errorOf('The named file lies outside the input, ingested and test data folders (refused before reading)'),
      NotFound: errorOf('No such endpoint, asset or file'),
      MethodNotAllowed: json(
        { oneOf: [ref('Error'), ref('MlflowError')] },
        "The path exists but not with this method; the Allow header lists those it has (MLflow's error shape on /invocations)",
      ),
      PayloadTooLarge: errorOf(`The body is larger than api.body_limit (${bodyLimit})`),
      UnsupportedMediaType: errorOf('A content type the endpoint does not read'),
      InternalError: errorOf('An unexpected failure (logged on the server; no details here)'),
      Unavailable: errorOf('No model is deployed, or the data it needs is missing or invalid on the server'),
    },
    ...(secured ? { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'api.token of the config' } } } : {}),
  };
}

/** The query parameters naming a data file on /prediction. */
function fileParameters(): Json[] {
  return FILE_LOCATION_KEYS.map((name) => ({
    name,
    in: 'query',
    required: false,
    description:
      name === 'file_location'
        ? "A data file on the server (relative to the config file's folder, inside the input, ingested or test data folder)"
        : "Same as file_location (a name the original project's clients use)",
    schema: { type: 'string', minLength: 1 },
  }));
}

/** The operations, by Express path and method. */
function operations(): Record<string, Record<string, Json>> {
  const predictionResponses = {
    200: json(ref('Predictions'), 'Predictions and probabilities of the served model, one per row'),
    400: errorResponse('BadRequest'),
    403: errorResponse('Forbidden'),
    404: errorResponse('NotFound'),
    413: errorResponse('PayloadTooLarge'),
    415: errorResponse('UnsupportedMediaType'),
    503: errorResponse('Unavailable'),
  };
  const predictionDescription =
    'Rows come from exactly one of: {"records"}, a CSV body, one uploaded CSV file (multipart, any field name), or a data file named by ' +
    `${FILE_LOCATION_KEYS.join(', ')} as a query parameter, a JSON key or a form field. Naming a file and also sending rows is a 400.`;
  const csv = {
    schema: { type: 'string', description: 'CSV with a header row naming the features; the target column, if any, is ignored' },
  };
  const fileFields = Object.fromEntries(FILE_LOCATION_KEYS.map((key) => [key, { type: 'string' }]));
  const mlflowError = (description: string): Json => json(ref('MlflowError'), description);
  const readiness = (summary: string): Json => ({
    tags: ['Probes'],
    summary,
    responses: { 200: json(ref('Ready'), 'A model is served'), 503: json(ref('NotReady'), 'No model is served (yet)') },
  });
  return {
    '/prediction': {
      post: {
        tags: ['Predictions'],
        summary: 'Predict attrition for records, CSV, an upload or a named data file',
        description: predictionDescription,
        operationId: 'postPrediction',
        parameters: fileParameters(),
        requestBody: {
          required: false,
          content: {
            'application/json': { schema: { oneOf: [ref('Records'), ref('FileLocation')] } },
            'text/csv': csv,
            'text/plain': csv,
            'application/csv': csv,
            'multipart/form-data': {
              schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'text/csv' }, ...fileFields } },
            },
            'application/x-www-form-urlencoded': { schema: { type: 'object', properties: fileFields } },
          },
        },
        responses: predictionResponses,
      },
      get: {
        tags: ['Predictions'],
        summary: 'Predict attrition for a named data file (the original\'s curl "/prediction?filename=...")',
        description: `${predictionDescription} A body, when a client sends one with GET, is read as on POST.`,
        operationId: 'getPrediction',
        parameters: fileParameters(),
        responses: predictionResponses,
      },
    },
    '/invocations': {
      post: {
        tags: ['MLflow'],
        summary: "MLflow's scoring endpoint: dataframe_split, dataframe_records, instances, inputs or CSV",
        description:
          'Answers as MLflow\'s scoring server: {"predictions": [...]}, errors as {"error_code", "message"}. Only application/json and text/csv, ' +
          'charset UTF-8 and no other content-type parameter (format=pandas-split is refused with 415).',
        operationId: 'invocations',
        requestBody: {
          required: true,
          content: { [MLFLOW_CONTENT_TYPES[0]]: { schema: ref('MlflowInput') }, [MLFLOW_CONTENT_TYPES[1]]: csv },
        },
        responses: {
          200: json(ref('MlflowPredictions'), 'Predicted classes, one per row'),
          400: mlflowError('Bad input (BAD_REQUEST)'),
          413: mlflowError('The body is larger than api.body_limit'),
          415: mlflowError('A content type, charset or content-type parameter MLflow refuses'),
          503: mlflowError('No model is deployed (TEMPORARILY_UNAVAILABLE)'),
        },
      },
    },
    '/scoring': {
      get: {
        tags: ['Model and data'],
        summary: 'F1 and the other metrics of the served model on the test data',
        operationId: 'getScoring',
        responses: { 200: json(ref('Scores'), 'Metrics of the served model'), 503: errorResponse('Unavailable') },
      },
    },
    '/summarystats': {
      get: {
        tags: ['Model and data'],
        summary: 'Mean, median, std, count, min and max per column of the ingested data',
        operationId: 'getSummaryStats',
        responses: { 200: json(ref('SummaryStatistics'), 'Statistics per column'), 503: errorResponse('Unavailable') },
      },
    },
    '/diagnostics': {
      get: {
        tags: ['Model and data'],
        summary: 'Model version, missing data, stage timings and dependency status',
        operationId: 'getDiagnostics',
        responses: { 200: json(ref('Diagnostics'), 'Diagnostics (parts that cannot be measured say why)') },
      },
    },
    '/runs': {
      get: {
        tags: ['Model and data'],
        summary: 'The fullprocess run history, oldest first',
        operationId: 'getRuns',
        parameters: [
          { name: 'limit', in: 'query', required: false, description: 'only the latest n runs', schema: { type: 'integer', minimum: 1 } },
        ],
        responses: {
          200: json(
            { type: 'object', required: ['runs'], additionalProperties: false, properties: { runs: { type: 'array', items: ref('Run') } } },
            'Runs',
          ),
        },
      },
    },
    '/drift': {
      get: {
        tags: ['Model and data'],
        summary: 'The latest run that checked for drift',
        operationId: 'getDrift',
        responses: { 200: json(ref('Drift'), 'The latest drift check, or drift: null with the reason') },
      },
    },
    '/risk': {
      get: {
        tags: ['Model and data'],
        summary: 'The call list: clients still with us, riskiest first, with the reasons',
        operationId: 'getRisk',
        parameters: [
          {
            name: 'top',
            in: 'query',
            required: false,
            description: 'how many clients (default 20)',
            schema: { type: 'integer', minimum: 1 },
          },
        ],
        responses: { 200: json(ref('RiskList'), 'The head of the call list'), 503: errorResponse('Unavailable') },
      },
    },
    '/metrics': {
      get: {
        tags: ['Operations'],
        summary: 'Prometheus metrics (text exposition format)',
        operationId: 'getMetrics',
        responses: { 200: text('text/plain', 'Counters, histograms and gauges of the API') },
      },
    },
    '/health': { get: { ...readiness('Readiness: is a model served, and which'), operationId: 'getHealth' } },
    '/ping': { get: { ...readiness("Readiness, as MLflow's client and hosting health checks poll it"), operationId: 'ping' } },
    '/health/live': {
      get: {
        tags: ['Probes'],
        summary: 'Liveness: 200 whenever the process serves',
        operationId: 'getLiveness',
        responses: {
          200: json(
            { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { const: 'ok' } } },
            'The process serves',
          ),
        },
      },
    },
    '/version': {
      get: {
        tags: ['MLflow'],
        summary: "The package version, as plain text (what MLflow's client reads)",
        operationId: 'getVersion',
        responses: { 200: text('text/plain', 'The version, e.g. 0.1.0') },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['Documentation'],
        summary: 'This document',
        operationId: 'getOpenApi',
        responses: { 200: json({ type: 'object', required: ['openapi', 'paths'] }, 'OpenAPI 3.1 document') },
      },
    },
    '/docs': {
      get: {
        tags: ['Documentation'],
        summary: 'A page rendering this document (Swagger UI, served by the API itself)',
        operationId: 'getDocs',
        responses: { 200: text('text/html', 'The page') },
      },
    },
    '/docs/:asset': {
      get: {
        tags: ['Documentation'],
        summary: "The docs page's script and style files",
        operationId: 'getDocsAsset',
        parameters: [{ name: 'asset', in: 'path', required: true, schema: { enum: [...DOCS_ASSETS] } }],
        responses: {
          200: {
            description: 'The file',
            content: { 'text/css': { schema: { type: 'string' } }, 'text/javascript': { schema: { type: 'string' } } },
          },
          404: errorResponse('NotFound'),
        },
      },
    },
  };
}

/** An Express path as an OpenAPI path (`/docs/:asset` → `/docs/{asset}`). */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

/** Builds the document for the app's routes. */
export function buildOpenApi(api: ApiDescription): Json {
  const described = operations();
  const paths: Record<string, Json> = {};
  for (const [route, methods] of api.routes) {
    const item: Json = {};
    for (const method of methods.map((m) => m.toLowerCase())) {
      const operation = described[route]?.[method] ?? {
        summary: 'not documented',
        'x-undocumented': true,
        responses: { 200: { description: 'not documented' } },
      };
      const open = api.open.includes(route);
      // Every route answers 400 for a query parameter given twice and 500 for an unexpected failure.
      const responses: Json = { ...(operation.responses as Json) };
      const mlflow = route === '/invocations';
      const fallback = (name: string, description: string): Json => (mlflow ? json(ref('MlflowError'), description) : errorResponse(name));
      responses[400] ??= fallback('BadRequest', 'Bad input');
      responses[500] ??= fallback('InternalError', 'An unexpected failure');
      if (api.secured && !open) responses[401] ??= fallback('Unauthorized', 'Missing or wrong bearer token');
      item[method] = { ...operation, responses, ...(open ? { security: [] } : {}) };
    }
    paths[openApiPath(route)] = item;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Dynamic Risk Assessment API',
      version: api.version,
      description:
        'Client-attrition predictions, model and data health. Unknown paths answer 404, known paths with another method 405 (Allow lists the methods); ' +
        'repeated slashes are merged and paths match in any case, with or without a trailing slash.',
    },
    tags: ['Predictions', 'MLflow', 'Model and data', 'Probes', 'Operations', 'Documentation'].map((name) => ({ name })),
    ...(api.secured ? { security: [{ bearerAuth: [] }] } : {}),
    paths,
    components: components(api.features, api.categorical, api.bodyLimit, api.secured),
  };
}
