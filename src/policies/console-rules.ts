import type { PolicySourceText } from './policy-loader.js';
import type { PolicySet } from './policy.types.js';

const PREFIX = 'console:';

/** Console rules become policy sources named `console:<id>`, so problems name the rule. */
export function consoleSources(rules: { id: string; rule: Record<string, unknown> }[]): PolicySourceText[] {
  return rules.map((r) => ({ name: `${PREFIX}${r.id}`, text: JSON.stringify({ rules: [r.rule] }, null, 2) }));
}

/** After loading, console rules say so in their source (file rules keep file and line). */
export function markConsoleSources(set: PolicySet): PolicySet {
  return {
    ...set,
    rules: set.rules.map((r) =>
      r.source.kind === 'file' && r.source.file.startsWith(PREFIX)
        ? { ...r, source: { kind: 'console', id: r.source.file.slice(PREFIX.length) } }
        : r,
    ),
  };
}
