/**
 * The glob syntax of the policy files, translated to anchored regular expressions. Kept
 * apart from the schemas, and free of NestJS and TypeORM, so that the matchers an agent
 * uses offline (engine/rule-operators.ts) compile globs exactly as Gatehouse does.
 *
 * Why not picomatch: measured on the cases of policy-loader.spec.ts "globs", picomatch
 * (bash mode for names) differs from the documented syntax on 5 of 32: `/var/log/**`
 * matches `/var/log` itself, `[!0-9]` is not a negated set once leading `!` negation is
 * switched off, `?` never matches `/` in names, and `(`, `)` and `@(` are pattern syntax
 * rather than literal characters. Hospitals' files are written against this syntax.
 */
/**
 * `path` globs (target.paths) treat `/` as the separator; `name` globs (everything
 * else: remote user ids, enterprises, groups, packages, device attributes) are flat.
 */
export type GlobKind = 'path' | 'name';

const REGEXP_SYNTAX = /[\^$\\.*+?()[\]{}|]/g;
const CLASS_SYNTAX = /[\\\]^[-]/g;

/**
 * Translates a glob to the source of an anchored regular expression (flags `us`), or
 * says what is wrong with it. The syntax:
 * - `?` one character, `*` any run of characters (possibly empty); in path globs
 *   neither matches `/`;
 * - `**` (path globs only) as a whole segment: `/var/log/**` everything below /var/log,
 *   `**&#47;x.log` x.log in any folder, `/a/**&#47;b` b in /a or any folder below it;
 * - `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`) one character of (or not of) a set; `]`
 *   first in the set is literal; in path globs a set never matches `/`;
 * - every other character is literal; there is no escape character (`\` is literal,
 *   so Windows paths need no doubling): write `[*]`, `[?]`, `[[]`, `[]]`, `[{]` for the
 *   literal characters. Braces (`{a,b}`) are refused, not silently literal.
 */
function translateGlob(pattern: string, kind: GlobKind): { source: string } | { error: string } {
  if (pattern.length === 0) return { error: 'empty pattern' };
  if (pattern.length > 1024) return { error: 'pattern longer than 1024 characters' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return { error: 'control character in pattern' };
  const chars = Array.from(pattern);
  const one = kind === 'path' ? '[^/]' : '.';
  let out = '';
  let i = 0;
  while (i < chars.length) {
    const c = chars[i];
    if (c === '*') {
      if (chars[i + 1] === '*') {
        if (kind === 'name') return { error: "'**' is only for paths; use '*'" };
        const wholeSegment = (i === 0 || chars[i - 1] === '/') && (i + 2 === chars.length || chars[i + 2] === '/');
        if (!wholeSegment) return { error: "'**' must be a whole path segment, as in /var/log/** or /data/**/x.log" };
        if (i + 2 === chars.length) {
          out += '.*';
          i += 2;
        } else {
          out += '(?:.*/)?';
          i += 3;
        }
        continue;
      }
      out += `${one}*`;
      i += 1;
      continue;
    }
    if (c === '?') {
      out += one;
      i += 1;
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (chars[j] === '!' || chars[j] === '^') {
        negate = true;
        j += 1;
      }
      const members: string[] = [];
      let first = true;
      while (j < chars.length && (chars[j] !== ']' || first)) {
        members.push(chars[j]);
        first = false;
        j += 1;
      }
      if (j >= chars.length) return { error: "unbalanced '[' (no closing ']'); write '[[]' for a literal '['" };
      let set = '';
      for (let k = 0; k < members.length; k += 1) {
        const lo = members[k];
        if (members[k + 1] === '-' && k + 2 < members.length) {
          const hi = members[k + 2];
          if (lo.codePointAt(0)! > hi.codePointAt(0)!) return { error: `bad range '${lo}-${hi}' in '[...]'` };
          set += `${lo.replace(CLASS_SYNTAX, '\\$&')}-${hi.replace(CLASS_SYNTAX, '\\$&')}`;
          if (kind === 'path' && lo <= '/' && '/' <= hi) return { error: "a '[...]' set cannot match '/' in a path" };
          k += 2;
        } else {
          if (kind === 'path' && lo === '/') return { error: "a '[...]' set cannot match '/' in a path" };
          set += lo.replace(CLASS_SYNTAX, '\\$&');
        }
      }
      if (negate) out += kind === 'path' ? `[^/${set}]` : `[^${set}]`;
      else out += `[${set}]`;
      i = j + 1;
      continue;
    }
    if (c === ']') return { error: "unbalanced ']' (no opening '['); write '[]]' for a literal ']'" };
    if (c === '{' || c === '}')
      return { error: 'braces are not supported: list the alternatives as separate patterns' };
    out += c.replace(REGEXP_SYNTAX, '\\$&');
    i += 1;
  }
  return { source: `^${out}$` };
}

/** What is wrong with a glob, or undefined when it is valid. */
export function globProblem(pattern: string, kind: GlobKind): string | undefined {
  const t = translateGlob(pattern, kind);
  return 'error' in t ? t.error : undefined;
}

/** Compiles a valid glob (see translateGlob for the syntax) to an anchored RegExp; throws on a bad one. */
export function compileGlob(pattern: string, kind: GlobKind): RegExp {
  const t = translateGlob(pattern, kind);
  if ('error' in t) throw new Error(`bad glob '${pattern}': ${t.error}`);
  return new RegExp(t.source, 'us');
}
