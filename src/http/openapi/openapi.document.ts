import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

export const OPENAPI_JSON_PATH = '/openapi.json';
export const OPENAPI_UI_PATH = '/docs';
export const BEARER_SCHEME = 'bearer';

/** The API's version (its routes live under /v1), not the package's. */
const API_VERSION = '1.0';

/** The OpenAPI 3.1 document, generated from the controllers and their decorators. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Tenancy service')
    .setDescription(
      'Tenants and their hierarchies of workspaces, event-sourced. Errors are application/problem+json (RFC 9457) with a stable `code`.',
    )
    .setVersion(API_VERSION)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'The operator key or a tenant API key' },
      BEARER_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/HttpController$/, '')}_${methodKey}`,
  });
  documentMinPositionEverywhere(document);
  return document;
}

/**
 * Every /v1 route takes Min-Position and refuses a value that is not a position
 * (src/http/request-validation.ts), so that a client may send its last write's position with every
 * request. The reads that wait for it document it themselves (ApiMinPosition); every other route
 * gets it here, said as it is there: its answer already includes any position a write returned.
 */
function documentMinPositionEverywhere(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const parameters = (operation.parameters ??= []);
      const named = parameters.some((parameter) => 'name' in parameter && parameter.name === 'Min-Position');
      if (named) continue;
      parameters.push({
        name: 'Min-Position',
        in: 'header',
        required: false,
        description:
          "A write response's position: taken without a wait, since this answer already includes it; a value that is not a position is 400",
        schema: { type: 'string' },
      });
    }
  }
}

/** `GET /openapi.json` and the interactive documentation at `/docs`. */
export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_UI_PATH.slice(1), app, () => openApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    raw: ['json'],
    customSiteTitle: 'Tenancy service API',
  });
}
