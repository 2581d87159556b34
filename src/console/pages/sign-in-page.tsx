import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

export function SignInPage(props: {
  ctx: PageContext;
  next: string | null;
  error?: string;
  notice?: string;
  username?: string;
}): JSX.Element {
  const action = props.next ? `/sign-in?next=${encodeURIComponent(props.next)}` : '/sign-in';
  return (
    <Layout ctx={props.ctx} title="Sign in">
      {props.notice ? (
        <p class="notice" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ''
      )}
      {props.error ? (
        <p class="notice error" role="alert" id="sign-in-error" safe>
          {props.error}
        </p>
      ) : (
        ''
      )}
      <form method="post" action={action} class="stack narrow">
        <label for="username">User name</label>
        <input
          id="username"
          name="username"
          autocomplete="username"
          required
          value={props.username ?? ''}
          aria-describedby="username-hint"
          autofocus
        />
        <p id="username-hint" class="hint">
          A Gatehouse account, or your hospital account as user, user@domain or DOMAIN\user.
        </p>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
