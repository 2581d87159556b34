import { describe, expect, it } from '@jest/globals';
import { jsonDepth, parseWithoutForbiddenKeys } from './json-body.js';

describe('jsonDepth', () => {
  it('counts nesting of objects and arrays', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonDepth('['.repeat(40) + ']'.repeat(40))).toBe(40);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepth('{"a":"[[[{{{\\"[[["}')).toBe(1);
  });
});

describe('parseWithoutForbiddenKeys', () => {
  it('refuses __proto__ and constructor keys, spelled out or escaped, at any depth', () => {
    for (const text of [
      '{"__proto__":{"admin":true}}',
      '{"a":[{"constructor":{"prototype":{}}}]}',
      '{"\\u005f_proto__":{"admin":true}}',
      '{"con\\u0073tructor":1}',
    ]) {
      expect(() => parseWithoutForbiddenKeys(text)).toThrow(/forbidden key/);
    }
  });

  it('refuses lone surrogates (a \\u escape PostgreSQL would refuse), in values and in keys', () => {
    for (const text of ['{"a":"x\\ud800"}', '{"a":["\\udc00"]}', '{"\\ud83d":1}']) {
      expect(() => parseWithoutForbiddenKeys(text)).toThrow(/not well-formed Unicode/);
    }
    expect(parseWithoutForbiddenKeys('{"a":"\\ud83c\\udfe5"}')).toEqual({ a: '🏥' });
  });

  it('parses everything else as JSON.parse does, such words as values included', () => {
    for (const text of ['{"a":1,"b":[true,null,"x"]}', '{"note":"__proto__ constructor \\u0041"}', '"\\u00e9"', '3']) {
      expect(parseWithoutForbiddenKeys(text)).toEqual(JSON.parse(text));
    }
  });
});
