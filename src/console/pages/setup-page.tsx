import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

/** First run: the setup token printed in the log, then the first administrator. */
export function SetupPage(props: { ctx: PageContext; error?: string; username?: string }): JSX.Element {
  return (
    <Layout ctx={props.ctx} title="First-run setup">
      <p>
        No administrator exists yet. Gatehouse printed a one-time setup token in its log when it started; enter it to
        create the first administrator.
      </p>
      {props.error ? (
        <p class="notice error" role="alert" safe>
          {props.error}
        </p>
      ) : (
        ''
      )}
      <form method="post" action="/setup" class="stack narrow">
        <label for="setupToken">Setup token</label>
        <input id="setupToken" name="setupToken" required autocomplete="off" />
        <label for="username">Administrator's user name</label>
        <input
          id="username"
          name="username"
          required
          pattern="[A-Za-z0-9._\-]{1,64}"
          autocomplete="username"
          value={props.username ?? ''}
        />
        <label for="displayName">Display name (optional)</label>
        <input id="displayName" name="displayName" autocomplete="name" />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" required autocomplete="new-password" />
        <button type="submit">Create the administrator</button>
      </form>
    </Layout>
  );
}
