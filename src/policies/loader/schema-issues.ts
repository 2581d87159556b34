/** The schema's findings (zod issues) in words an administrator can act on. */
import type { z } from 'zod';
import { didYouMean, knownKeysAt } from '../policy-schema.js';
import type { PolicyFileReader } from './file-reader.js';
import { isRecord } from './values.js';

function quote(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `'${v}'`;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** Extra words for some values, by path with list indexes left out. */
const HINTS: Record<string, string> = {
  'defaults.effect': ' (allow cannot be the default: what no rule allows is denied or asked)',
};

export function reportSchemaIssue(reader: PolicyFileReader, issue: z.core.$ZodIssue): void {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  const value = reader.valueAt(path);
  const parentPath = path.slice(0, -1);
  const last = path[path.length - 1];
  const hint = HINTS[path.filter((s) => typeof s === 'string').join('.')] ?? '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(path);
      for (const key of issue.keys) {
        const suggestion = didYouMean(key, known);
        const rest = suggestion || (known.length > 0 ? ` (expected ${known.join(', ')})` : '');
        reader.add([...path, key], `unknown key '${key}'${rest}`, path);
      }
      return;
    }
    case 'invalid_type': {
      const parent = reader.valueAt(parentPath);
      if (typeof last === 'string' && isRecord(parent) && !Object.hasOwn(parent, last)) {
        reader.add(path, `missing required key '${last}'`, parentPath);
      } else {
        reader.add(path, `expected ${EXPECTED[issue.expected] ?? issue.expected}; got ${describeValue(value)}`);
      }
      return;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v));
      const suggestion = typeof value === 'string' ? didYouMean(value, values) : '';
      reader.add(path, `expected one of ${values.join(', ')}; got ${describeValue(value)}${suggestion}${hint}`);
      return;
    }
    case 'invalid_union':
      reader.add(path, `expected text, a number or true/false; got ${describeValue(value)}`);
      return;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'string') {
        reader.add(path, min <= 1 ? 'must not be empty' : `must have at least ${min} items`);
      } else {
        reader.add(path, `must be at least ${min}; got ${describeValue(value)}`);
      }
      return;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') reader.add(path, `must be at most ${max} characters long`);
      else if (issue.origin === 'array') reader.add(path, `must have at most ${max} items`);
      else reader.add(path, `must be at most ${max}; got ${describeValue(value)}`);
      return;
    }
    case 'invalid_key':
      reader.add(path, `bad key ${quote(last)}`, parentPath);
      return;
    case 'custom':
    case 'invalid_element':
    case 'invalid_format':
    case 'not_multiple_of':
      reader.add(path, issue.message);
  }
}
