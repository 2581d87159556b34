import type { ErrorDetail } from '../../common/api-error.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

const TITLES: Record<number, string> = {
  400: 'That request was not valid',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Already changed',
  429: 'Too many attempts',
  503: 'Unavailable',
};

/** Any error as a page: what happened in plain words, the code, and a way back. */
export function ErrorPage(props: {
  ctx: PageContext;
  status: number;
  code: string;
  message: string;
  /** Which field and what is wrong with it (a form's validation), as the API's error shape says. */
  details?: ErrorDetail[];
}): JSX.Element {
  const title = TITLES[props.status] ?? (props.status >= 500 ? 'Something went wrong' : 'Request refused');
  return (
    <Layout ctx={props.ctx} title={title}>
      <div class="notice error" role="alert">
        <p safe>{props.message}</p>
        {props.details && props.details.length > 0 ? (
          <ul>
            {props.details.map((d) => (
              <li safe>{d.field ? `${d.field}: ${d.problem}` : d.problem}</li>
            ))}
          </ul>
        ) : (
          ''
        )}
        <p class="muted" safe>{`Error ${props.status} (${props.code})`}</p>
      </div>
      <p>
        <a href="/">Back to the start page</a>
      </p>
    </Layout>
  );
}
