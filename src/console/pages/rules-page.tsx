import { counted } from '../plural.js';
import type { ConsoleRuleEntity } from '../../policies/console-rule.entity.js';
import type { PolicyProblem, PolicyRule, PolicySet } from '../../policies/policy.types.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import { may } from '../nav.js';
import type { PageContext } from '../page-context.js';
import { DataTable, Notice } from './parts.js';

const list = (values: string[] | undefined) => (values && values.length > 0 ? values.join(', ') : '—');

function RuleSource(props: { ctx: PageContext; rule: PolicyRule; consoleRule?: ConsoleRuleEntity }): JSX.Element {
  const { rule, ctx } = props;
  if (rule.source.kind === 'file') {
    return <code safe>{`${rule.source.file}:${rule.source.line}`}</code>;
  }
  const by = props.consoleRule
    ? ` (by ${props.consoleRule.updatedBy}, ${formatTime(props.consoleRule.updatedAt, ctx.timeZone)})`
    : '';
  return (
    <>
      <span safe>{`console${by}`}</span>
      {may(ctx.staff, 'manage', 'Policy') ? (
        <>
          {' '}
          <a href={`/policies/console-rules/${rule.source.id}`} aria-label={`Edit console rule ${rule.id}`}>
            Edit
          </a>
        </>
      ) : (
        ''
      )}
    </>
  );
}

/** The effective rule set: every rule with where it comes from; file rules read-only, console rules editable. */
export function RulesPage(props: {
  ctx: PageContext;
  set: PolicySet | null;
  problems: PolicyProblem[];
  consoleRules: ConsoleRuleEntity[];
  notice?: string;
}): JSX.Element {
  const { ctx, set } = props;
  const byId = new Map(props.consoleRules.map((r) => [r.id, r]));
  return (
    <Layout ctx={ctx} title="Rules">
      <Notice text={props.notice} />
      <p>
        {set ? (
          <span
            safe
          >{`Policy set ${set.version.slice(0, 12)} is in force: ${counted(set.rules.length, 'rule', 'rules')}; by default ${set.defaults.effect}.`}</span>
        ) : (
          <strong>No valid policy set is in force: every request is denied.</strong>
        )}
      </p>
      <p class="actions-inline">
        {may(ctx.staff, 'manage', 'Policy') ? <a href="/policies/console-rules/new">New console rule</a> : ''}
        <a href="/policies/simulate">What if…</a>
        <a href="/policies/versions">Versions and changes</a>
      </p>
      {props.problems.length > 0 ? (
        <section class="notice error" aria-labelledby="problems">
          <h2 id="problems">The files on disk do not validate (the set above stays in force)</h2>
          <ul>
            {props.problems.map((p) => (
              <li safe>{`${p.file}:${p.line}: ${p.message}`}</li>
            ))}
          </ul>
        </section>
      ) : (
        ''
      )}
      {set && set.rules.length > 0 ? (
        <DataTable
          caption="Rules in force"
          columns={['Rule', 'Effect', 'Actions', 'Devices', 'Remote users', 'Source']}
          rows={set.rules}
          rowAttributes={(rule) => ({ id: `rule-${rule.id}` })}
          cells={(rule) => [
            <th scope="row">
              <span safe>{rule.id}</span>
              {rule.description ? (
                <div class="muted" safe>
                  {rule.description}
                </div>
              ) : (
                ''
              )}
            </th>,
            <td>{rule.effect}</td>,
            <td safe>{list(rule.actions)}</td>,
            <td safe>{list(rule.devices)}</td>,
            <td safe>
              {[list(rule.remoteUsers?.enterprises), list(rule.remoteUsers?.users), list(rule.remoteUsers?.groups)]
                .filter((v) => v !== '—')
                .join(' · ') || 'anyone'}
            </td>,
            <td>
              <RuleSource
                ctx={ctx}
                rule={rule}
                consoleRule={rule.source.kind === 'console' ? byId.get(rule.source.id) : undefined}
              />
            </td>,
          ]}
        />
      ) : (
        <p class="empty">No rule: every request gets the default.</p>
      )}
    </Layout>
  );
}
