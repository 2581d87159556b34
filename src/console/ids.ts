import { notFound } from '../common/api-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A request or grant id from a console URL; anything else is "not found" (a page, not a 400 in JSON). */
export function pageId(value: string, what: string): string {
  if (!UUID.test(value)) throw notFound(what);
  return value;
}
