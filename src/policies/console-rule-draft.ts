import { Injectable } from '@nestjs/common';
import { parse } from 'yaml';
import { consoleSources } from './console-rules.js';
import { PolicyService } from './policy.service.js';

/** A problem as the editor shows it: a line of the draft, or a file and line elsewhere in the set. */
export interface DraftProblem {
  /** "line 3" of the draft, or "rules/acme.yaml:12" of another source. */
  where: string;
  /** Line of the draft (1-based), when the problem is in the draft. */
  line?: number;
  message: string;
}

export type DraftCheck =
  { ok: true; rule: Record<string, unknown> & { id: string } } | { ok: false; problems: DraftProblem[] };

/** Not a possible rule id (a space), so never the name of a stored console rule's source. */
const DRAFT_SOURCE = 'the rule being edited';
/** The draft goes in as the one item of a `rules:` list; its lines move down by these. */
const WRAPPER = 'rules:\n  -\n';
const WRAPPER_LINES = 2;

/**
 * Checks a console rule written in YAML (one rule, as in a policy file's `rules:` list)
 * with the same loader as the files, against the files and the other console rules, so
 * the editor shows the loader's own messages at the draft's own lines.
 */
@Injectable()
export class ConsoleRuleDrafts {
  constructor(private readonly policies: PolicyService) {}

  /** `editing`: the id of the stored rule this draft replaces (left out of the others). */
  async check(text: string, editing?: string): Promise<DraftCheck> {
    const others = (await this.policies.consoleRules()).filter((r) => r.id !== editing);
    const indented = text
      .replace(/\r\n?/g, '\n')
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n');
    const result = this.policies.loadWith([
      ...consoleSources(others),
      { name: DRAFT_SOURCE, text: WRAPPER + indented },
    ]);
    if (!result.ok) {
      return {
        ok: false,
        problems: result.problems.map((p) => {
          if (p.file !== DRAFT_SOURCE) return { where: `${p.file}:${p.line}`, message: p.message };
          const line = Math.max(1, p.line - WRAPPER_LINES);
          return { where: `line ${line}`, line, message: p.message };
        }),
      };
    }
    // Valid for the loader, so a mapping with an id: the stored rule is its plain data.
    const rule = parse(text, { uniqueKeys: true }) as Record<string, unknown> & { id: string };
    if (editing !== undefined && rule.id !== editing) {
      return {
        ok: false,
        problems: [
          { where: 'line 1', line: 1, message: `the id must stay '${editing}' (write a new rule for another id)` },
        ],
      };
    }
    return { ok: true, rule };
  }
}
