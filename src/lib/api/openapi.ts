/**
 * The API's OpenAPI 3.1 document (GET /openapi.json), built from the app's
 * route table: every path and method the routers answer gets the operation
 * described here; one that has none is listed with `x-undocumented` (a test
 * fails on it), so the document cannot lose a route. Schemas are JSON Schema
 * 2020-12, as OpenAPI 3.1 has them, and the tests check every answer they
 * receive against them.
 */
import { DECIMAL } from '../data/dataset.js';
import { FILE_NAMES } from '../layout.js';
import { FILE_LOCATION_KEYS } from './prediction-input.js';
import { MLFLOW_CONTENT_TYPES } from './mlflow.js';
import { dashboardOperations } from './dashboard-openapi.js';

/** The keys of MLflow's JSON scoring formats. */
const MLFLOW_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

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
    anyOf: [
      { type: ['number', 'null'] },
      // A decimal as the CSV reader takes it, with blanks around it or none; blanks only are a missing value.
      { type: 'string', pattern: `^[ \\t\\v\\f]*(${DECIMAL.source.slice(1, -1)})?[ \\t\\v\\f]*$` },
    ],
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
  // Columns by name: every feature, each a list of at least one value.
  const columnMap = {
    type: 'object',
    required: [...features],
    properties: Object.fromEntries(features.map((feature) => [feature, { type: 'array', minItems: 1, items: featureValue }])),
  };
  const recordsOrColumns = { oneOf: [{ type: 'array', minItems: 1, items: ref('Record') }, columnMap] };
  const mlflowFormats: Record<(typeof MLFLOW_FORMATS)[number], Json> = {
    dataframe_split: {
      type: 'object',
      required: ['columns', 'data'],
      properties: {
        columns: { type: 'array', items: { type: 'string' }, allOf: features.map((feature) => ({ contains: { const: feature } })) },
        data: { type: 'array', minItems: 1, items: { type: 'array', items: {} } },
        index: { type: ['array', 'null'], items: {}, description: 'One entry per row of data (pandas refuses another length)' },
      },
    },
    dataframe_records: { type: 'array', minItems: 1, items: ref('Record') },
    instances: recordsOrColumns,
    inputs: recordsOrColumns,
  };
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
        status: {
          enum: ['unavailable', 'stale'],
          description: 'unavailable: no model is served; stale: an older version is served, the deployed one could not be loaded',
        },
        error: { type: 'string', description: 'why no model, or not the deployed version, is served' },
        model_version: { type: 'integer', minimum: 1, description: 'stale: the version served (predictions still come from it)' },
        deployed_version: { type: 'integer', minimum: 1, description: 'stale: the version current in the store' },
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
        oneOf: FILE_LOCATION_KEYS.map((key) => ({ required: [key], properties: { [key]: { type: 'string', minLength: 1 } } })),
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
          'Exactly one of the four MLflow formats; other keys (params) are ignored. Rows as plain lists (instances/inputs of lists) are refused; ' +
          'dataframe_split rows have one value per column, and its index, when given, one entry per row (as pandas requires).',
        oneOf: MLFLOW_FORMATS.map((format) => ({
          required: [format],
          properties: { [format]: mlflowFormats[format] },
          not: {
            anyOf: MLFLOW_FORMATS.filter((other) => other !== format).map((other) => ({ required: [other], properties: { [other]: {} } })),
          },
        })),
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
          refresh_failed: {
            type: 'array',
            items: { enum: ['diagnostics', 'report', 'apicalls'] },
            description: 'Outputs this tick could not refresh (the notes say why)',
          },
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
      ...(secured ? { Unauthorized: errorOf('Missing or wrong bearer token') } : {}),
      Forbidden: errorOf('The named file lies outside the input, ingested and test data folders (refused before reading)'),
      NotFound: errorOf('No such endpoint, asset or file'),
      MethodNotAllowed: {
        ...errorOf('The path exists but not with this method'),
        headers: { Allow: { description: 'The methods the path has', schema: { type: 'string' } } },
      },
      PayloadTooLarge: errorOf(`The body is larger than api.body_limit (${bodyLimit})`),
      UnsupportedMediaType: errorOf('A content type the endpoint does not read'),
      InternalError: errorOf('An unexpected failure (logged on the server; no details here)'),
      Unavailable: errorOf('No model is deployed, or the data it needs is missing or invalid on the server'),
    },
    // Without api.token nothing is checked, and every operation says so with `security: []`.
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
    description: 'Answers 200 with the served version while a model is served, 503 with the reason otherwise (for a readiness probe).',
    responses: {
      200: json(ref('Ready'), 'A model is served'),
      503: json(ref('NotReady'), 'No model is served (yet), or not the deployed version'),
    },
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
        description:
          'The deployed model scored on test_data_path/testdata.csv: F1 (positive class 1), precision, recall, accuracy, ROC AUC, log-loss and the confusion matrix [[TN, FP], [FN, TP]].',
        responses: { 200: json(ref('Scores'), 'Metrics of the served model'), 503: errorResponse('Unavailable') },
      },
    },
    '/summarystats': {
      get: {
        tags: ['Model and data'],
        summary: 'Mean, median, std, count, min and max per column of the ingested data',
        operationId: 'getSummaryStats',
        description:
          'Per numeric column of the ingested finaldata.csv: mean, median, sample standard deviation (ddof = 1, as pandas), count, min and max.',
        responses: { 200: json(ref('SummaryStatistics'), 'Statistics per column'), 503: errorResponse('Unavailable') },
      },
    },
    '/diagnostics': {
      get: {
        tags: ['Model and data'],
        summary: 'Model version, missing data, stage timings and dependency status',
        operationId: 'getDiagnostics',
        description:
          'The served model version, the percentage of missing values per column, the wall time of ingestion and training (measured in a scratch folder), and the dependencies with their current, wanted and latest versions (or why they are unavailable).',
        responses: { 200: json(ref('Diagnostics'), 'Diagnostics (parts that cannot be measured say why)') },
      },
    },
    '/runs': {
      get: {
        tags: ['Model and data'],
        summary: 'The fullprocess run history, oldest first',
        operationId: 'getRuns',
        description:
          'One record per fullprocess tick (time, files, scores, drift rule and numbers, decision, versions before and after, error), oldest first.',
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
        description: 'The model drift and the per-feature data drift (PSI, two-sample KS) of the newest tick that checked for drift.',
        responses: { 200: json(ref('Drift'), 'The latest drift check, or drift: null with the reason') },
      },
    },
    '/risk': {
      get: {
        tags: ['Model and data'],
        summary: 'The call list: clients still with us, riskiest first, with the reasons',
        operationId: 'getRisk',
        description:
          'Clients whose newest row has target 0, riskiest first, each with its probability and the features contributing most to its log-odds.',
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
        description:
          'Process and Node.js runtime metrics, HTTP requests and latency by method, route and status, and the model health read at scrape time.',
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
        description: 'Answers 200 whenever the process serves, with or without a model (for a liveness probe).',
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
        description: "The package version as plain text, as MLflow's ScoringServerClient.get_version() reads it.",
        responses: { 200: text('text/plain', 'The version, e.g. 0.1.0') },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['Documentation'],
        summary: 'This document',
        operationId: 'getOpenApi',
        description: 'The OpenAPI 3.1 document of every endpoint, request and answer of this API.',
        responses: {
          200: json(
            { type: 'object', required: ['openapi', 'paths'], properties: { openapi: { type: 'string' }, paths: { type: 'object' } } },
            'OpenAPI 3.1 document',
          ),
        },
      },
    },
    '/docs': {
      get: {
        tags: ['Documentation'],
        summary: 'A page rendering this document (Swagger UI, served by the API itself)',
        operationId: 'getDocs',
        description: 'Swagger UI rendering this document, with every file it needs served by the API itself (no CDN).',
        responses: { 200: text('text/html', 'The page') },
      },
    },
    '/docs/:asset': {
      get: {
        tags: ['Documentation'],
        summary: "The docs page's script and style files",
        operationId: 'getDocsAsset',
        description: "Swagger UI's script and style, and the page's own script.",
        responses: {
          200: {
            description: 'The file',
            content: { 'text/css': { schema: { type: 'string' } }, 'text/javascript': { schema: { type: 'string' } } },
          },
          404: errorResponse('NotFound'),
        },
      },
    },
    ...dashboardOperations(),
  };
}

/** An Express path as an OpenAPI path (`/docs/:asset` → `/docs/{asset}`). */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

/** The methods the document describes on every path: those a path lacks are documented as answering 405. */
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** `/docs/:asset` → `DocsAsset`, for operation ids. */
function pascalName(route: string): string {
  return route
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
}

/** The operation for a method a path does not have: 405 with Allow (401 first without the token). */
function notAllowed(route: string, method: string, allowed: readonly string[], tags: unknown): Json {
  return {
    tags,
    summary: `${method.toUpperCase()} is not allowed here`,
    description: `Answers 405 with an Allow header listing ${allowed.join(', ')} (and HEAD with GET).`,
    operationId: `${method}${pascalName(route)}NotAllowed`,
    responses: { 405: errorResponse('MethodNotAllowed') },
  };
}

/** OPTIONS on a path: 204 with Allow, and a CORS preflight's answer for an allowed origin; never needs the token. */
function options(route: string, tags: unknown): Json {
  const header = (description: string): Json => ({ description, schema: { type: 'string' } });
  return {
    tags,
    summary: 'The methods of this path, and CORS preflights',
    description:
      'Answers 204 with Allow. A CORS preflight from an origin in api.cors_origins also gets the Access-Control-Allow-* headers; ' +
      'from any other origin it gets none (the browser then refuses the call).',
    operationId: `options${pascalName(route)}`,
    responses: {
      204: {
        description: 'The methods of this path',
        headers: {
          Allow: header('The methods of this path'),
          'Access-Control-Allow-Origin': header('The requesting origin, when it is in api.cors_origins'),
          'Access-Control-Allow-Methods': header('The methods of this path (preflights from an allowed origin)'),
          'Access-Control-Allow-Headers': header('Authorization, Content-Type (preflights from an allowed origin)'),
        },
      },
    },
  };
}

/** Builds the document for the app's routes. */
export function buildOpenApi(api: ApiDescription): Json {
  const described = operations();
  const paths: Record<string, Json> = {};
  const bearer = [{ bearerAuth: [] }];
  for (const [route, routeMethods] of api.routes) {
    const item: Json = {};
    const allowed = routeMethods.map((m) => m.toLowerCase());
    const open = api.open.includes(route);
    const mlflow = route === '/invocations';
    const fallback = (name: string, description: string): Json => (mlflow ? json(ref('MlflowError'), description) : errorResponse(name));
    const tags = described[route]?.[allowed[0]]?.tags ?? ['Documentation'];
    const entries: [string, Json, boolean][] = [
      ...METHODS.map((method): [string, Json, boolean] =>
        allowed.includes(method)
          ? [
              method,
              described[route]?.[method] ?? {
                summary: 'not documented',
                'x-undocumented': true,
                responses: { 200: { description: 'not documented' } },
              },
              open,
            ]
          : [method, notAllowed(route, method, routeMethods, tags), open],
      ),
      ['options', options(route, tags), true],
    ];
    for (const [method, operation, openOperation] of entries) {
      // Every request may meet a query parameter given twice (400) and an unexpected failure (500).
      const responses: Json = { ...(operation.responses as Json) };
      if (responses[405])
        responses[405] = mlflow ? json(ref('MlflowError'), 'Not allowed (the Allow header lists the methods)') : responses[405];
      responses[400] ??= fallback('BadRequest', 'Bad input');
      responses[500] ??= fallback('InternalError', 'An unexpected failure');
      if (api.secured && !openOperation) responses[401] ??= fallback('Unauthorized', 'Missing or wrong bearer token');
      item[method] = { ...operation, responses, security: api.secured && !openOperation ? bearer : [] };
    }
    // A path's parameters belong to every method of the path, those that answer 405 included.
    // Described by the route's own operation when it declares the parameter, else by PATH_PARAMETERS.
    const declared = (name: string): Json | undefined =>
      Object.values(described[route] ?? {})
        .flatMap((operation) => (operation.parameters as Json[] | undefined) ?? [])
        .find((parameter) => parameter.name === name && parameter.in === 'path');
    const parameters = [...route.matchAll(/:(\w+)/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      ...(declared(name) ?? PATH_PARAMETERS[name] ?? { schema: { type: 'string' } }),
    }));
    paths[openApiPath(route)] = parameters.length > 0 ? { parameters, ...item } : item;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Dynamic Risk Assessment API',
      version: api.version,
      description:
        'Client-attrition predictions, model and data health. Unknown paths answer 404, known paths with another method 405 (Allow lists the methods); ' +
        'repeated slashes are merged and paths match in any case, with or without a trailing slash. ' +
        (api.secured
          ? 'Every endpoint but the probes (/health, /health/live, /ping) and OPTIONS needs the bearer token.'
          : 'No token is configured (api.token): every endpoint is open.'),
    },
    servers: [{ url: '/', description: 'The server that serves this document' }],
    tags: TAGS.map(([name, description]) => ({ name, description })),
    security: api.secured ? bearer : [],
    paths,
    components: components(api.features, api.categorical, api.bodyLimit, api.secured),
  };
}

/** What the path parameters hold. */
const PATH_PARAMETERS: Record<string, Json> = {
  asset: { description: 'The file name', schema: { enum: [...DOCS_ASSETS] } },
};

const TAGS: [string, string][] = [
  ['Predictions', "Attrition predictions, in every way the original project's clients call for them"],
  ['MLflow', "MLflow's scoring protocol, so that MLflow clients work unchanged"],
  ['Model and data', 'The deployed model, its scores, the ingested data, the run history, drift and the call list'],
  ['Probes', 'Readiness and liveness, answered without the token'],
  ['Operations', 'Prometheus metrics'],
  ['Documentation', 'This document and the page that renders it'],
  ['Dashboard', "The engineer's dashboard: its page, assets and the data it shows"],
];
