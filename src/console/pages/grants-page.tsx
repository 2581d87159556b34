import type { GrantView } from '../../approvals/grants.service.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import { may } from '../nav.js';
import type { PageContext } from '../page-context.js';
import { EndAccessForm } from './end-access-form.js';

/**
 * Live "approve for N minutes" grants, each with "End now"; for administrators of all devices,
 * "End a vendor's access everywhere" (POST /api/v1/access/end).
 */
export function GrantsPage(props: { ctx: PageContext; grants: GrantView[]; notice?: string }): JSX.Element {
  const { ctx, grants } = props;
  const mayEnd = may(ctx.staff, 'decide', 'Approval');
  return (
    <Layout ctx={ctx} title="Live grants">
      {props.notice ? (
        <p class="notice" role="status" tabindex="-1" data-focus-on-load="" safe>
          {props.notice}
        </p>
      ) : (
        ''
      )}
      {grants.length === 0 ? (
        <p class="empty">No grant is live.</p>
      ) : (
        <ul class="cards">
          {grants.map((g) => (
            <li class="card">
              <h2>
                <a href={`/approvals/${g.requestId}`} safe>
                  {`${g.action} on ${g.deviceId}`}
                </a>
              </h2>
              <p safe>{`${g.remoteUser} · approved by ${g.approvedBy.join(', ')}`}</p>
              <p class="muted">
                {'Ends '}
                <span safe>{formatTime(g.expiresAt, ctx.timeZone)}</span>
                {' · '}
                <time datetime={g.expiresAt} data-countdown="" safe>
                  {formatTime(g.expiresAt, ctx.timeZone)}
                </time>
              </p>
              {mayEnd ? (
                <form method="post" action={`/grants/${g.id}/end`}>
                  <input type="hidden" name="_csrf" value={ctx.csrfToken ?? ''} />
                  <button type="submit" class="danger" aria-label={`End now: ${g.action} on ${g.deviceId}`}>
                    End now
                  </button>
                </form>
              ) : (
                ''
              )}
            </li>
          ))}
        </ul>
      )}
      {may(ctx.staff, 'manage', 'Approval') ? (
        <EndAccessForm
          ctx={ctx}
          action="/grants/end-enterprise"
          id="end-enterprise"
          heading="End a vendor's access everywhere"
          what="Ends every remote session not completed and every live grant of this vendor enterprise, on every device."
          button="End the vendor's access"
        >
          <label for="end-enterprise-name">Vendor enterprise (as agents report it, e.g. acme-medical)</label>
          <input id="end-enterprise-name" name="enterprise" type="text" maxlength="128" required />
        </EndAccessForm>
      ) : (
        ''
      )}
    </Layout>
  );
}
