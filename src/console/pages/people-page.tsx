import type { RoleBinding } from '../../auth/roles.js';
import type { Person } from '../../users/people.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import { may } from '../nav.js';
import type { PageContext } from '../page-context.js';
import { Notice } from './parts.js';

/** "approver of ct-scanners, injectors: access entry Biomed-Approvers, from directory group Biomed-Approvers". */
export function roleReason(grant: RoleBinding): string {
  const scope = grant.devices === '*' ? 'all devices' : grant.devices.join(', ');
  const from = grant.from.map((f) => `${f.source} group ${f.group}`).join(', ');
  return `${grant.role} of ${scope}: access entry ${grant.via.join(', ')}, from ${from}`;
}

function LocalUserForms(props: { ctx: PageContext; person: Person }): JSX.Element {
  const { ctx, person } = props;
  const name = person.user.username;
  const csrf = ctx.csrfToken ?? '';
  return (
    <div class="actions">
      {person.user.source === 'local' ? (
        <form method="post" action={`/users/${encodeURIComponent(name)}/password`}>
          <input type="hidden" name="_csrf" value={csrf} />
          <label for={`password-${name}`} safe>
            {`New password for ${name}`}
          </label>
          <input id={`password-${name}`} name="password" type="password" autocomplete="new-password" required />
          <button type="submit" class="secondary">
            Reset password
          </button>
        </form>
      ) : (
        ''
      )}
      {person.blockedUntil ? (
        <form method="post" action={`/users/${encodeURIComponent(name)}/unlock`}>
          <input type="hidden" name="_csrf" value={csrf} />
          <button type="submit" aria-label={`Unlock ${name}`}>
            Unlock
          </button>
        </form>
      ) : (
        ''
      )}
    </div>
  );
}

function CreateUserForm(props: { ctx: PageContext }): JSX.Element {
  return (
    <details class="card">
      <summary>New local user</summary>
      <form method="post" action="/users" class="stack narrow">
        <input type="hidden" name="_csrf" value={props.ctx.csrfToken ?? ''} />
        <label for="new-username">User name</label>
        <input id="new-username" name="username" required maxlength="64" autocomplete="off" />
        <label for="new-display">Display name</label>
        <input id="new-display" name="displayName" maxlength="200" />
        <label for="new-email">E-mail (for approval requests)</label>
        <input id="new-email" name="email" type="email" maxlength="254" />
        <label for="new-password">Password</label>
        <input id="new-password" name="password" type="password" required autocomplete="new-password" />
        <label for="new-groups">Local groups (comma-separated)</label>
        <input id="new-groups" name="groups" maxlength="2000" />
        <button type="submit">Create user</button>
      </form>
    </details>
  );
}

/** Who has which role and why (the groups it came from); local users' passwords and locks. */
export function PeoplePage(props: {
  ctx: PageContext;
  people: Person[];
  nextCursor: string | null;
  text: string;
  notice?: string;
}): JSX.Element {
  const { ctx } = props;
  const mayManage = may(ctx.staff, 'manage', 'User');
  return (
    <Layout ctx={ctx} title="People and roles">
      <Notice text={props.notice} />
      {mayManage ? <CreateUserForm ctx={ctx} /> : ''}
      <form method="get" action="/users" class="filters" role="search" aria-label="Find people">
        <div class="field">
          <label for="q">Search (user name or display name)</label>
          <input id="q" name="q" type="search" value={props.text} maxlength="200" />
        </div>
        <button type="submit">Find</button>
      </form>
      {props.people.length === 0 ? (
        <p class="empty">Nobody matches.</p>
      ) : (
        <ul class="cards">
          {props.people.map((p) => (
            <li class="card" id={`user-${p.user.username}`}>
              <h2 safe>{`${p.user.displayName || p.user.username} (${p.user.username})`}</h2>
              <p class="muted" safe>
                {`${p.user.source} user${p.user.disabled ? ', disabled' : ''}` +
                  (p.blockedUntil ? `, sign-in blocked until ${formatTime(p.blockedUntil, ctx.timeZone)}` : '')}
              </p>
              <p safe>{`Groups: ${p.groups.map((g) => g.name).join(', ') || 'none'}`}</p>
              {p.roleBindings.length === 0 ? (
                <p class="muted">No role.</p>
              ) : (
                <ul>
                  {p.roleBindings.map((g) => (
                    <li safe>{roleReason(g)}</li>
                  ))}
                </ul>
              )}
              {mayManage ? <LocalUserForms ctx={ctx} person={p} /> : ''}
            </li>
          ))}
        </ul>
      )}
      {props.nextCursor ? (
        <p>
          <a href={`/users?${new URLSearchParams({ q: props.text, after: props.nextCursor }).toString()}`} rel="next">
            Next people
          </a>
        </p>
      ) : (
        ''
      )}
    </Layout>
  );
}
