/// <reference types="@kitajs/html/htmx.d.ts" />
import type { Children } from '@kitajs/html';
import { visibleNav } from './nav.js';
import type { PageContext } from './page-context.js';

// Strict CSP: htmx must not inject its indicator <style>, evaluate strings or call other sites.
const HTMX_CONFIG = JSON.stringify({ includeIndicatorStyles: false, allowEval: false, selfRequestsOnly: true });

export function Layout(props: { ctx: PageContext; title: string; children?: Children }): JSX.Element {
  const { ctx } = props;
  const staff = ctx.staff;
  const bodyHeaders = ctx.csrfToken ? JSON.stringify({ 'X-CSRF-Token': ctx.csrfToken }) : undefined;
  return (
    <>
      {'<!doctype html>'}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="htmx-config" content={HTMX_CONFIG} />
          <title safe>{`${props.title} · Gatehouse`}</title>
          <link rel="stylesheet" href="/assets/console.css" />
          <script src="/assets/htmx.min.js" defer></script>
          <script src="/assets/sse.min.js" defer></script>
          <script src="/assets/console.js" defer></script>
          <script src="/assets/copy.js" defer></script>
        </head>
        <body hx-headers={bodyHeaders}>
          <a class="skip-link" href="#main">
            Skip to content
          </a>
          <header class="top">
            <a class="brand" href="/">
              Gatehouse
            </a>
            {staff ? (
              <div class="who">
                <span safe>{staff.user.displayName || staff.user.username}</span>
                <form method="post" action="/sign-out">
                  <input type="hidden" name="_csrf" value={ctx.csrfToken ?? ''} />
                  <button type="submit" class="link">
                    Sign out
                  </button>
                </form>
              </div>
            ) : (
              ''
            )}
          </header>
          {staff ? (
            <nav aria-label="Main">
              <ul>
                {visibleNav(staff).map((entry) => (
                  <li>
                    <a href={entry.href} aria-current={ctx.path.startsWith(entry.href) ? 'page' : undefined}>
                      <span safe>{entry.label}</span>
                      {entry.badge === 'pending' ? (
                        <span id="pending-badge" class="badge" aria-label="requests waiting" safe>
                          {String(ctx.pendingCount ?? '')}
                        </span>
                      ) : (
                        ''
                      )}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : (
            ''
          )}
          <main id="main" tabindex="-1">
            <h1 safe>{props.title}</h1>
            {/* What went wrong with a part of the page that htmx updates (console.js fills it). */}
            <p id="connection-problem" class="live-problem" role="alert" hidden></p>
            {props.children}
          </main>
          <footer>
            <p safe>{`Times are shown in ${ctx.timeZone}.`}</p>
            {/* To staff only, as the menu: signed-out pages tell no more than they must. */}
            {staff ? <Versions versions={ctx.versions} /> : ''}
          </footer>
        </body>
      </html>
    </>
  );
}

/** What runs, for a support call or an upgrade check: as GET /health/ready says it. */
function Versions(props: { versions: PageContext['versions'] }): JSX.Element {
  const { gatehouse, policySet } = props.versions;
  return (
    <p>
      <span safe>{`Gatehouse ${gatehouse}`}</span>
      {' · '}
      {policySet ? (
        <span title={policySet} safe>{`policy set ${policySet.slice(0, 12)}`}</span>
      ) : (
        <span>no policy set in force</span>
      )}
    </p>
  );
}
