import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { OWNERSHIP_EXCEPTIONS, SQL_FUNCTION_OWNERS, TABLE_OWNERS } from './table-owners.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Reference {
  file: string; // under src/, with forward slashes
  name: string; // table or SQL function
  how: string;
  /** Could change the table: SQL that writes it, or the entity class (repositories write). */
  write: boolean;
}

/** Every .ts/.tsx file under src/, as paths relative to src/. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry) ? [relative(SRC, path).split('\\').join('/')] : [];
  });
}

const moduleOf = (file: string): string => file.split('/')[0];

/** Table name of each entity file (its @Entity({ name })), keyed by path under src/. */
function entityTables(files: Map<string, string>): Map<string, string> {
  const tables = new Map<string, string>();
  for (const [file, text] of files) {
    const match = /@Entity\(\{\s*name:\s*'([a-z_]+)'/.exec(text);
    if (match) tables.set(file.replace(/\.tsx?$/, ''), match[1]);
  }
  return tables;
}

// SQL names a table after one of these keywords; upper case as the code writes SQL, so that
// prose ("read from devices") in messages is not taken for SQL.
const SQL_TABLE = /\b(DELETE\s+FROM|FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE|ON)\s+"?([a-z_]+)"?/g;
const READS = new Set(['FROM', 'JOIN']);
const SQL_FUNCTION = /\b([a-z_]+)\s*\(/g;

/** The tables, SQL functions and entity files one source file names. */
export function referencesOf(file: string, text: string, entityFiles: Map<string, string>): Reference[] {
  const found: Reference[] = [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TSX);
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteralLike(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      for (const [, keyword, name] of node.text.matchAll(SQL_TABLE))
        if (name in TABLE_OWNERS)
          found.push({ file, name, how: `SQL: ${node.text.trim().slice(0, 80)}`, write: !READS.has(keyword) });
      for (const [, name] of node.text.matchAll(SQL_FUNCTION))
        if (name in SQL_FUNCTION_OWNERS) found.push({ file, name, how: `SQL function: ${name}()`, write: true });
    }
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const specifier = (node.moduleSpecifier as ts.StringLiteral).text;
      if (specifier.startsWith('.') && !typeOnly(node)) {
        const target = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '');
        const table = entityFiles.get(target);
        if (table) found.push({ file, name: table, how: `imports the entity ${specifier}`, write: true });
      }
      return; // the specifier is a path, not SQL
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * A type-only import reads and writes nothing (it is erased): a module may describe another's
 * rows it got through that module's service. Importing the entity class itself is what lets
 * code reach the table (a repository, a query builder, `new`), so that counts.
 */
function typeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) return node.isTypeOnly;
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

function ownerOf(name: string): string | undefined {
  return TABLE_OWNERS[name] ?? SQL_FUNCTION_OWNERS[name];
}

function excepted(ref: Reference): boolean {
  return OWNERSHIP_EXCEPTIONS.some(
    (e) =>
      e.module === moduleOf(ref.file) &&
      (e.file === undefined || e.file === ref.file) &&
      (e.names === '*' || e.names.includes(ref.name)) &&
      !(e.readOnly && ref.write),
  );
}

/** References to a table or SQL function from outside its owner, less the listed exceptions. */
export function foreignReferences(files: Map<string, string>): string[] {
  const entityFiles = entityTables(files);
  const problems: string[] = [];
  for (const [file, text] of files) {
    for (const ref of referencesOf(file, text, entityFiles)) {
      const owner = ownerOf(ref.name);
      if (owner && owner !== moduleOf(ref.file) && !excepted(ref))
        problems.push(`${ref.file} names ${ref.name} (owned by ${owner}): ${ref.how}`);
    }
  }
  return [...new Set(problems)].sort();
}

function readAll(): Map<string, string> {
  return new Map(sourceFiles().map((file) => [file, readFileSync(join(SRC, file), 'utf8')]));
}

describe('one owner per table', () => {
  const files = readAll();

  it('keeps every entity in the folder of the module that owns its table', () => {
    const misplaced = [...entityTables(files)]
      .filter(([file, table]) => TABLE_OWNERS[table] !== moduleOf(file))
      .map(
        ([file, table]) =>
          `${file} declares ${table}, owned by ${TABLE_OWNERS[table] ?? 'nobody (add it to TABLE_OWNERS)'}`,
      );
    expect(misplaced).toEqual([]);
  });

  it('lets no module name another module’s table or SQL function', () => {
    expect(foreignReferences(files)).toEqual([]);
  });

  it('lists only exceptions that are still needed', () => {
    const entityFiles = entityTables(files);
    const used = OWNERSHIP_EXCEPTIONS.filter((exception) =>
      [...files].some(
        ([file, text]) =>
          moduleOf(file) === exception.module &&
          (exception.file === undefined || exception.file === file) &&
          referencesOf(file, text, entityFiles).some(
            (ref) =>
              ownerOf(ref.name) !== exception.module &&
              (exception.names === '*' || exception.names.includes(ref.name)) &&
              !(exception.readOnly && ref.write),
          ),
      ),
    );
    expect(used).toEqual(OWNERSHIP_EXCEPTIONS);
  });

  it('is the map that src/database/README.md shows', () => {
    const readme = readFileSync(join(SRC, 'database', 'README.md'), 'utf8');
    const shown: Record<string, string> = {};
    for (const [, names, owner] of readme.matchAll(/^\| (`[^|]+) \| ([a-z-]+) \|/gm))
      for (const [, name] of names.matchAll(/`([a-z_]+)(?:\(\))?`/g)) shown[name] = owner;
    expect(shown).toEqual({ ...TABLE_OWNERS, ...SQL_FUNCTION_OWNERS });
  });

  it('allows a read-only exception to read, not to write', () => {
    const sample = new Map(files);
    const file = 'directory/store-users.ts';
    sample.set(file, `${files.get(file)}\nconst w = 'UPDATE users SET disabled = true WHERE id = $1';\n`);
    expect(foreignReferences(files).filter((p) => p.startsWith(file))).toEqual([]);
    expect(foreignReferences(sample).filter((p) => p.startsWith(file))).toEqual([
      `${file} names users (owned by users): SQL: UPDATE users SET disabled = true WHERE id = $1`,
    ]);
  });

  it('catches a foreign table in SQL, a foreign SQL function and a foreign entity import', () => {
    const sample = new Map(files);
    sample.set(
      'devices/sample.ts',
      [
        "import { GroupEntity } from '../users/group.entity.js';",
        "const a = 'SELECT id FROM users WHERE id = $1';",
        'const b = `UPDATE "sessions" SET revoked_at = now() WHERE ${where}`;',
        "const c = 'SELECT * FROM audit_append($1, $2)';",
        "const d = 'prose that mentions users and sessions only';",
        "const e = 'DELETE FROM console_rules WHERE id = $1';",
      ].join('\n'),
    );
    expect(foreignReferences(sample).filter((p) => p.startsWith('devices/sample.ts'))).toEqual([
      'devices/sample.ts names audit_append (owned by audit): SQL function: audit_append()',
      'devices/sample.ts names console_rules (owned by policies): SQL: DELETE FROM console_rules WHERE id = $1',
      'devices/sample.ts names groups (owned by users): imports the entity ../users/group.entity.js',
      'devices/sample.ts names sessions (owned by auth): SQL: UPDATE "sessions" SET revoked_at = now() WHERE',
      'devices/sample.ts names users (owned by users): SQL: SELECT id FROM users WHERE id = $1',
    ]);
  });
});
