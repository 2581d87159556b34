/**
 * Loads the policy files (../shared/docs/policy-files.md) into one validated PolicySet.
 * Pure: no Nest, no database. A set with any problem is not returned at all; every
 * problem found is reported, by file and line.
 *
 * The steps, each in its own file under loader/: reading the folder (policy-folder.ts),
 * reading one file with line numbers (file-reader.ts, schema-issues.ts, file-checks.ts),
 * cross-references between files (cross-references.ts), building the set (set-builder.ts),
 * its version and diffs (set-version.ts). This file is the entry the rest of Gatehouse
 * imports from.
 *
 * Merge: the four keys may be in any file. `deviceGroups`, `access` and `rules` are
 * concatenated in file order; rule ids and device group names must be unique across all
 * files; access entries with the same group (compared without letter case) and role are
 * one entry whose devices are the union; `defaults` may be given in one file only.
 */
import type { PolicyProblem, PolicySet } from './policy.types.js';
import { checkCrossReferences } from './loader/cross-references.js';
import { PolicyFileReader } from './loader/file-reader.js';
import { readPolicyFolder, type PolicySourceText } from './loader/policy-folder.js';
import { buildPolicySet } from './loader/set-builder.js';
import { compareCodeUnits, sortProblems } from './loader/values.js';

export { findPolicyFiles, type PolicySourceText } from './loader/policy-folder.js';
export { diffPolicySets, policySetVersion, type PolicySetDiff } from './loader/set-version.js';

export type LoadResult = { ok: true; set: PolicySet; files: string[] } | { ok: false; problems: PolicyProblem[] };

/**
 * Reads and validates every policy file under `dir` (see findPolicyFiles), together with
 * `extra` sources (the console rules), which are validated by the same rules.
 */
export function loadPolicyDirectory(dir: string, extra: PolicySourceText[] = []): LoadResult {
  const folder = readPolicyFolder(dir);
  if (!folder.ok) return folder;
  const result = loadPolicySources([...folder.sources, ...extra]);
  if (folder.problems.length === 0) return result;
  return { ok: false, problems: sortProblems([...folder.problems, ...(result.ok ? [] : result.problems)]) };
}

/** Validates and merges policy files given as text (sorted by name first). */
export function loadPolicySources(sources: PolicySourceText[]): LoadResult {
  const problems: PolicyProblem[] = [];
  const sorted = [...sources].sort((a, b) => compareCodeUnits(a.name, b.name));
  const readers: PolicyFileReader[] = [];
  const names = new Set<string>();
  for (const source of sorted) {
    if (names.has(source.name)) {
      problems.push({ file: source.name, line: 0, message: 'the same file name is given twice' });
      continue;
    }
    names.add(source.name);
    readers.push(new PolicyFileReader(source.name, source.text, problems));
  }
  checkCrossReferences(readers);
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  return { ok: true, set: buildPolicySet(readers), files: readers.map((r) => r.name) };
}
