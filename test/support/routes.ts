import { api } from './test-app.js';

/** Every route of the OpenAPI document with the access it declares. */
export async function routeTable(
  baseUrl: string,
): Promise<{ method: string; path: string; access: string | undefined }[]> {
  const doc = (await api(baseUrl, 'GET', '/api/docs/openapi.json')).body as {
    paths: Record<string, Record<string, { 'x-gatehouse-access'?: string }>>;
  };
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        access: op['x-gatehouse-access'],
      })),
    )
    .sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}
