import type { VerifyResult } from '../../audit/audit-verifier.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

function Verification(props: { result: VerifyResult }): JSX.Element {
  const r = props.result;
  const text: string = r.ok
    ? `The chain checks out: ${r.records} records, each linked to the one before and unchanged.`
    : `The chain is broken at record ${r.firstBadSeq}: ${r.reason} (${r.records} records checked).`;
  return (
    <p class={`notice ${r.ok ? 'ok' : 'error'}`} role="status" id="verification" safe>
      {text}
    </p>
  );
}

/** The chain's head, and a full verification on request (it reads every record). */
export function ChainPage(props: {
  ctx: PageContext;
  head: { seq: number; hash: string } | null;
  result?: VerifyResult;
}): JSX.Element {
  return (
    <Layout ctx={props.ctx} title="Audit chain">
      <section class="card" aria-labelledby="head">
        <h2 id="head">Head of the chain</h2>
        {props.head ? (
          <dl class="facts">
            <dt>Last record</dt>
            <dd>{props.head.seq}</dd>
            <dt>Its hash</dt>
            <dd class="hash" safe>
              {props.head.hash}
            </dd>
          </dl>
        ) : (
          <p class="empty">No record yet.</p>
        )}
        <p class="muted">
          Keep the head outside Gatehouse: a later verification against it shows whether the tail was cut. Signed
          checkpoints are not in this version yet.
        </p>
      </section>
      {props.result ? <Verification result={props.result} /> : ''}
      <form method="get" action="/audit/chain">
        <input type="hidden" name="verify" value="1" />
        <button type="submit">Verify the whole chain</button>
      </form>
    </Layout>
  );
}
