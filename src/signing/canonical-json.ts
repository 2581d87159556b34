/**
 * RFC 8785 (JSON Canonicalization Scheme) text of a JSON value: what a signature covers, so
 * that any verifier (another language, an agent, an auditor's script) rebuilds the same bytes.
 * JCS is I-JSON serialised the ECMAScript way: JSON.stringify already writes numbers
 * (Number.prototype.toString) and strings (minimal escapes) as JCS requires, and keys sort by
 * UTF-16 code units, which is what Array.prototype.sort does by default. What JSON.stringify
 * would silently turn into something else (NaN, Infinity, undefined, functions, BigInt, lone
 * surrogates) is refused: a signed text must mean exactly what the caller gave.
 */
export function canonicalize(value: unknown): string {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new TypeError('RFC 8785: a string holds a lone surrogate');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`RFC 8785: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
      const toJson = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJson === 'function') return canonicalize((toJson as () => unknown).call(value));
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${canonicalize(k)}:${canonicalize(v)}`).join(',')}}`;
    }
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      throw new TypeError(`RFC 8785: a ${typeof value} is not JSON`);
  }
}
