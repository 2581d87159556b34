import { Ajv2020 } from 'ajv/dist/2020.js';

export interface MediaType {
  schema?: { type?: string; $ref?: string; [key: string]: unknown };
}
export interface Operation {
  'x-gatehouse-access'?: string;
  security?: Record<string, string[]>[];
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

export function operationsOf(doc: OpenApiDocument) {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method, path, op, name: `${method.toUpperCase()} ${path}` })),
  );
}

/**
 * What is wrong with a real answer against the document: its status is not documented for
 * the route, or its body does not match the documented JSON schema (JSON Schema 2020-12,
 * the dialect of OpenAPI 3.1; `$ref`s to components resolve within the document).
 * Formats are not checked: zod writes a pattern beside each (uuid, date-time).
 */
export function documentedBodyProblems(
  doc: OpenApiDocument,
  method: string,
  route: string,
  status: number,
  body: unknown,
): string[] {
  const name = `${method} ${route} ${status}`;
  const response = doc.paths[route]?.[method.toLowerCase()]?.responses?.[String(status)];
  if (!response) return [`${name}: status not documented`];
  if (status === 204) return body === undefined ? [] : [`${name}: a body where none is documented`];
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return [`${name}: no JSON body documented`];
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ components: doc.components }, 'doc');
  const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${name}: ${e.instancePath || '(body)'} ${e.message} (${e.schemaPath})`);
}
