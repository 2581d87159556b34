/**
 * One policy file: YAML parsed with line numbers, validated against the schema and the
 * checks within the file. Problems are reported by file and line, in words that name the
 * path of the value (rules[2].when.windows[0]).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { PolicyProblem } from '../policy.types.js';
import { policyFileSchema, type PolicyFile } from '../policy-schema.js';
import { checkWithinFile } from './file-checks.js';
import { describeValue, reportSchemaIssue } from './schema-issues.js';
import { errorText, isRecord } from './values.js';

/** A place in a file: keys and list indexes, from the top. */
export type ValuePath = readonly (string | number)[];

export function formatPath(path: ValuePath): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

/**
 * The line of a path in a parsed YAML document: of the key when it ends with a key, of the
 * item when it ends with a list index; when the path does not exist all the way, of the
 * deepest part that does (for a missing key: the key or item that should hold it).
 */
export function lineOfPath(doc: Document.Parsed, lines: LineCounter, path: ValuePath): number {
  const linePos = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  let node: unknown = doc.contents;
  let line = linePos(node) ?? 1;
  // Past an alias (*name) the line stays the alias's: the place that uses the value.
  let viaAlias = false;
  for (const seg of path) {
    if (isAlias(node)) {
      node = node.resolve(doc);
      viaAlias = true;
    }
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      if (!viaAlias) line = linePos(pair.key) ?? line;
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
      if (next === undefined) break;
      if (!viaAlias) line = linePos(next) ?? line;
    } else break;
    node = next;
  }
  return line;
}

export class PolicyFileReader {
  readonly lines = new LineCounter();
  readonly doc: Document.Parsed;
  /** The plain value of the file, undefined when YAML errors make it unusable. */
  raw: Record<string, unknown> | undefined;
  /** The validated file, undefined when the schema found a problem. */
  data: PolicyFile | undefined;

  constructor(
    readonly name: string,
    text: string,
    private readonly problems: PolicyProblem[],
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of [...this.doc.errors, ...this.doc.warnings]) {
      const line = this.lines.linePos(e.pos[0]).line;
      const message =
        e.code === 'DUPLICATE_KEY'
          ? `duplicate key '${this.keyAt(e.pos[0]) ?? text.slice(e.pos[0], e.pos[1])}'`
          : `YAML syntax error: ${e.message}`;
      problems.push({ file: name, line, message });
    }
    if (this.doc.errors.length > 0 || this.doc.warnings.length > 0) return;
    let value: unknown;
    try {
      // Bounded: a "billion laughs" file of nested aliases must not exhaust memory.
      value = this.doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      problems.push({ file: name, line: this.aliasProblemLine(), message: `YAML error: ${errorText(e)}` });
      return;
    }
    if (value === null || value === undefined) value = {};
    if (!isRecord(value)) {
      this.add(
        [],
        `expected a mapping with the keys defaults, deviceGroups, access and rules; got ${describeValue(value)}`,
      );
      return;
    }
    this.raw = value;
    const parsed = policyFileSchema.safeParse(value);
    if (parsed.success) this.data = parsed.data;
    else for (const issue of parsed.error.issues) reportSchemaIssue(this, issue);
    checkWithinFile(this, value);
  }

  /** The key that starts at an offset of the text. */
  private keyAt(offset: number): string | undefined {
    let key: string | undefined;
    visit(this.doc, {
      Pair: (_, pair) => {
        if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
          key = String(pair.key.value);
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return key;
  }

  private aliasProblemLine(): number {
    let line = 1;
    visit(this.doc, {
      Alias: (_, node) => {
        if (node.resolve(this.doc) === undefined && node.range) {
          line = this.lines.linePos(node.range[0]).line;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return line;
  }

  /** The line of a path (see lineOfPath). */
  lineOf(path: ValuePath): number {
    return lineOfPath(this.doc, this.lines, path);
  }

  /** Reports a problem at a path; `where` is the path named in the message (default: the same). */
  add(path: ValuePath, message: string, where: ValuePath = path): void {
    const prefix = formatPath(where);
    this.problems.push({
      file: this.name,
      line: this.lineOf(path),
      message: prefix ? `${prefix}: ${message}` : message,
    });
  }

  /** The plain value at a path, undefined where the path does not exist. */
  valueAt(path: ValuePath): unknown {
    let v: unknown = this.raw;
    for (const seg of path) {
      if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
      else if (isRecord(v) && typeof seg === 'string' && Object.hasOwn(v, seg)) v = v[seg];
      else return undefined;
    }
    return v;
  }
}
