import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

/** For someone signed in whose roles give them no page yet. */
export function HomePage(props: { ctx: PageContext }): JSX.Element {
  return (
    <Layout ctx={props.ctx} title="Welcome">
      <p>You are signed in, but your roles give you no console page. Ask an administrator for a role.</p>
    </Layout>
  );
}
