import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

/**
 * Migrations are backward compatible for one version (docs/upgrades.md): during a rolling
 * upgrade the replicas of the previous version keep serving on the migrated schema. This reads
 * each migration's up() and names the statements that would break them. It sees the SQL written
 * in up() itself, not SQL that up() builds in a helper: keep breaking statements in up().
 */
const DIR = fileURLToPath(new URL('.', import.meta.url));

/**
 * The newest migration when this rule was set (no version had been released yet): those up to
 * it predate the rule. The one break among them is named by the second test below.
 */
const RULE_SET_AFTER = 1796645000000;

/**
 * The contract step of an expand/contract change, one version after the expand step: the
 * migration's name, and why the previous version no longer uses what it removes.
 */
const CONTRACT_STEPS: Record<string, string> = {};

const BREAKING: [RegExp, string][] = [
  [/\bDROP\s+(TABLE|COLUMN|FUNCTION|VIEW|TYPE)\b/i, 'drops what the previous version may use'],
  [/\bRENAME\b/i, 'renames what the previous version names'],
  [/\bSET\s+NOT\s+NULL\b/i, "makes a column required that the previous version's inserts may leave out"],
  [/\bALTER\s+COLUMN\s+"?\w+"?\s+(SET\s+DATA\s+)?TYPE\b/i, 'changes a type the previous version reads and writes'],
  [
    /\bADD\s+(COLUMN\s+)?"?\w+"?\s+[^,;'`]*?\bNOT\s+NULL\b(?![^,;'`]*\bDEFAULT\b)/i,
    "adds a required column without a default: the previous version's inserts fail",
  ],
];

/** The SQL statements of a migration's up() that would break the previous version, each with why. */
export function breakingStatements(source: string): string[] {
  const up = source.slice(source.indexOf('async up('), source.indexOf('async down('));
  return up
    .split(/\n\s*\n|;\s*\n|await queryRunner\.query\(/)
    .flatMap((statement) =>
      BREAKING.filter(([pattern]) => pattern.test(statement)).map(
        ([pattern, why]) => `${statement.match(pattern)![0]}: ${why}`,
      ),
    );
}

function migrationFiles(): { name: string; timestamp: number; source: string }[] {
  return readdirSync(DIR)
    .filter((f) => /^\d+-\w+\.ts$/.test(f))
    .map((f) => {
      const [timestamp, name] = f.replace(/\.ts$/, '').split('-');
      return { name: `${name}${timestamp}`, timestamp: Number(timestamp), source: readFileSync(DIR + f, 'utf8') };
    });
}

describe('migrations (docs/upgrades.md)', () => {
  it('keep the previous version working (expand now, contract one version later)', () => {
    const problems = migrationFiles()
      .filter((m) => m.timestamp > RULE_SET_AFTER && !CONTRACT_STEPS[m.name])
      .flatMap((m) => breakingStatements(m.source).map((p) => `${m.name}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('would have named the change that replaced record_decisions in one step', () => {
    const m = migrationFiles().find((f) => f.name === 'DecisionsAuditThroughAudit1796620000000')!;
    expect(breakingStatements(m.source)).toEqual(['DROP FUNCTION: drops what the previous version may use']);
  });

  it('lets a nullable column, a column with a default and a new table through', () => {
    const up = `async up(queryRunner) {
      await queryRunner.query('ALTER TABLE "devices" ADD "note" text');
      await queryRunner.query('ALTER TABLE "devices" ADD "tags" text array NOT NULL DEFAULT \\'{}\\'');
      await queryRunner.query('CREATE TABLE "x" ("id" uuid NOT NULL, CONSTRAINT "PK_x" PRIMARY KEY ("id"))');
    }
    async down(queryRunner) {
      await queryRunner.query('DROP TABLE "x"');
    }`;
    expect(breakingStatements(up)).toEqual([]);
    expect(breakingStatements(up.replace('"note" text', '"note" text NOT NULL'))).toEqual([
      'ADD "note" text NOT NULL: adds a required column without a default: the previous version\'s inserts fail',
    ]);
  });
});
