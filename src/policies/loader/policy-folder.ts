/**
 * Reading the policy folder from disk.
 *
 * Choices: every *.yaml / *.yml under the folder, recursively, sorted by their path
 * relative to the folder ('/' separated, compared by code unit). Left out: the top-level
 * `tests/` folder (policy test cases) and hidden files and folders (names starting with
 * '.', such as .git or .github).
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyProblem } from '../policy.types.js';
import { compareCodeUnits, errorText } from './values.js';

export interface PolicySourceText {
  /** The file's path relative to the policy folder (or another stable name). */
  name: string;
  text: string;
}

/**
 * The policy files under `dir` as paths relative to it ('/' separated), in load order.
 * Throws when `dir` cannot be read.
 */
export function findPolicyFiles(dir: string): string[] {
  const out: string[] = [];
  // Real paths already walked: a symbolic link back up the tree must not loop.
  const seen = new Set<string>([realpathSync(dir)]);
  const walk = (abs: string, rel: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const childAbs = join(abs, entry.name);
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && statSync(childAbs).isDirectory());
      if (isDir) {
        if (rel === '' && entry.name === 'tests') continue;
        const real = realpathSync(childAbs);
        if (seen.has(real)) continue;
        seen.add(real);
        walk(childAbs, childRel);
      } else if (/\.ya?ml$/.test(entry.name)) {
        out.push(childRel);
      }
    }
  };
  walk(dir, '');
  return out.sort(compareCodeUnits);
}

export type FolderReadResult =
  { ok: true; sources: PolicySourceText[]; problems: PolicyProblem[] } | { ok: false; problems: PolicyProblem[] };

/**
 * The text of every policy file under `dir`. Files that cannot be read or are not UTF-8
 * are problems, and the others are still read (so that all problems are reported at once).
 */
export function readPolicyFolder(dir: string): FolderReadResult {
  let names: string[];
  try {
    names = findPolicyFiles(dir);
  } catch (e) {
    return { ok: false, problems: [{ file: dir, line: 0, message: `cannot read the policy folder: ${errorText(e)}` }] };
  }
  const sources: PolicySourceText[] = [];
  const problems: PolicyProblem[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, name));
    } catch (e) {
      problems.push({ file: name, line: 0, message: `cannot read the file: ${errorText(e)}` });
      continue;
    }
    try {
      sources.push({ name, text: utf8.decode(bytes) });
    } catch {
      problems.push({ file: name, line: 0, message: 'the file is not valid UTF-8' });
    }
  }
  return { ok: true, sources, problems };
}
