import { invalidField } from '../common/api-error.js';

/** Keyset pagination: the last row's sort value and id, opaque to clients. */
export interface Cursor {
  value: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Exactly what encodeCursor writes (Date#toISOString): Date.parse alone accepts "1" or "foo 1". */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.value, c.id])).toString('base64url');
}

/** 400 for anything this API did not give out (never passed on to SQL unchecked). */
export function decodeCursor(text: string): Cursor {
  try {
    const [value, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (
      typeof value === 'string' &&
      ISO.test(value) &&
      !Number.isNaN(Date.parse(value)) &&
      typeof id === 'string' &&
      UUID.test(id)
    ) {
      return { value, id };
    }
  } catch {
    // fall through
  }
  throw invalidField('cursor', 'not a cursor this API gave out');
}
