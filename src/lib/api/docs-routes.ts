/**
 * The API describes itself: GET /openapi.json (the OpenAPI document) and
 * GET /docs, a page rendering it with Swagger UI from the swagger-ui-dist
 * package, served here with everything it loads (no CDN: the page works
 * offline and under the API's `script-src 'self'` policy).
 */
import path from 'node:path';
import type { Request, Response } from 'express';
import swaggerUi from 'swagger-ui-dist';
import { NotFoundError } from '../errors.js';
import { DOCS_ASSETS } from './openapi.js';
import { RouteTable } from './routes.js';

const SWAGGER_UI_FOLDER = swaggerUi.getAbsoluteFSPath();

// The page's own script: an external file, since the content security policy forbids inline scripts.
// It finds the document next to the docs folder, so the page works behind a path prefix too.
// The page leaves out what only says how the server speaks HTTP: the operations of methods a path does
// not have (405, operationId ...NotAllowed) and OPTIONS. They stay in /openapi.json for tools; on the
// page they would be two thirds of the list (and Swagger UI stops drawing a list past about 140).
const DOCS_SCRIPT = `'use strict';
(function () {
  var documentUrl = new URL('../openapi.json', document.currentScript.src).href;
  function shownOperation(operation) {
    var id = operation.getIn(['operation', 'operationId']) || '';
    return operation.get('method') !== 'options' && !/NotAllowed$/.test(id);
  }
  function withoutProtocolOperations() {
    return {
      statePlugins: {
        spec: {
          wrapSelectors: {
            taggedOperations: function (original) {
              return function () {
                return original.apply(null, arguments).map(function (tag) {
                  return tag.set('operations', tag.get('operations').filter(shownOperation));
                });
              };
            }
          }
        }
      }
    };
  }
  window.addEventListener('load', function () {
    window.ui = SwaggerUIBundle({
      url: documentUrl,
      dom_id: '#swagger-ui',
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis],
      plugins: [withoutProtocolOperations],
      layout: 'BaseLayout',
      validatorUrl: null,
      tryItOutEnabled: false
    });
  });
})();
`;

/** The page, with asset links relative to where it is served (`/docs` or `/docs/`). */
function docsPage(assetPrefix: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Dynamic Risk Assessment API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetPrefix}swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${assetPrefix}swagger-ui-bundle.js"></script>
<script src="${assetPrefix}docs.js"></script>
</body>
</html>
`;
}

/**
 * The documentation routes; `document` builds the OpenAPI document (once the
 * app knows all its routes), again whenever `edition` changes (the served model, whose features it describes).
 */
export function docsRoutes(document: () => Record<string, unknown>, edition: () => unknown = () => null): RouteTable {
  let built: { edition: unknown; document: Record<string, unknown> } | undefined;
  return new RouteTable()
    .get('/openapi.json', (_req: Request, res: Response) => {
      const current = edition();
      if (!built || built.edition !== current) built = { edition: current, document: document() };
      res.json(built.document);
    })
    .get('/docs', (req: Request, res: Response) => {
      res.type('html').send(docsPage(req.path.endsWith('/') ? './' : './docs/'));
    })
    .get('/docs/:asset', (req: Request, res: Response) => {
      const asset = String(req.params.asset);
      if (!(DOCS_ASSETS as readonly string[]).includes(asset)) throw new NotFoundError(`no such docs asset: ${asset.slice(0, 80)}`);
      if (asset === 'docs.js') {
        res.type('text/javascript').send(DOCS_SCRIPT);
        return;
      }
      res.sendFile(path.join(SWAGGER_UI_FOLDER, asset), { maxAge: '1h' });
    });
}
