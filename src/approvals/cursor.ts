import { ApiError, ErrorCode } from '../common/api-error.js';

/** Keyset pagination: the last row's sort value and id, opaque to clients. */
export interface Cursor {
  value: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.value, c.id])).toString('base64url');
}

/** 400 for anything this API did not give out (never passed on to SQL unchecked). */
export function decodeCursor(text: string): Cursor {
  try {
    const [value, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof value === 'string' && !Number.isNaN(Date.parse(value)) && typeof id === 'string' && UUID.test(id)) {
      return { value, id };
    }
  } catch {
    // fall through
  }
  throw new ApiError(ErrorCode.InvalidRequest, 'cursor: not a cursor this API gave out', [
    { field: 'cursor', problem: 'not a cursor this API gave out' },
  ]);
}
