import { counted } from '../plural.js';
import type { IntegrityResult } from '../../audit/audit-integrity.service.js';
import type { SignedCheckpoint } from '../../audit/checkpoint-format.js';
import { formatTime } from '../console-time.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';
import { Fact } from './parts.js';

function Verification(props: { result: IntegrityResult }): JSX.Element {
  const r = props.result;
  const text: string = r.ok
    ? `The chain checks out: ${counted(r.records, 'record', 'records')}, each linked to the one before and unchanged.`
    : `The chain is broken at record ${r.firstBadSeq}: ${r.reason} (${counted(r.records, 'record', 'records')} checked).`;
  return (
    <p class={`notice ${r.ok ? 'ok' : 'error'}`} role="status" id="verification" safe>
      {text}
    </p>
  );
}

/** Whether the chain still reaches the checkpoint: only a verification run can say. */
function againstCheckpoint(cp: SignedCheckpoint, result: IntegrityResult | undefined): string {
  if (!result) return 'not checked on this page yet: verify the whole chain below';
  const checked = result.checkpoints.some((c) => c.source === 'stored' && c.seq === cp.seq && c.hash === cp.hash);
  if (!checked) return 'not checked: a newer checkpoint was signed meanwhile; reload';
  return result.ok ? `yes: record ${cp.seq} is in the verified chain with this hash` : 'no: see the verification below';
}

function Checkpoint(props: {
  ctx: PageContext;
  checkpoint: SignedCheckpoint | null;
  signatureValid: boolean;
  result?: IntegrityResult;
}): JSX.Element {
  const cp = props.checkpoint;
  return (
    <section class="card" aria-labelledby="checkpoint">
      <h2 id="checkpoint">Last signed checkpoint</h2>
      {cp ? (
        <dl class="facts">
          <Fact term="Record" value={String(cp.seq)} />
          <dt>Its hash</dt>
          <dd class="hash" safe>
            {cp.hash}
          </dd>
          <Fact term="Signed" value={formatTime(cp.at, props.ctx.timeZone)} />
          <Fact term="Key id" value={cp.keyId} />
          <Fact
            term="Signature"
            value={
              props.signatureValid ? "valid: one of this appliance's keys" : "INVALID: not one of this appliance's keys"
            }
          />
          <Fact term="Chain verifies against it" value={againstCheckpoint(cp, props.result)} />
        </dl>
      ) : (
        <p class="empty">No checkpoint signed yet.</p>
      )}
      <p class="muted">
        Keep a copy outside Gatehouse (<code>GET /api/v1/audit/checkpoints/latest</code> answers it as a file):{' '}
        <code>audit:verify --checkpoint</code> against it later shows whether the tail was cut or the history rewritten.
      </p>
    </section>
  );
}

/** The chain's head, the last signed checkpoint, and a full verification on request (it reads every record). */
export function ChainPage(props: {
  ctx: PageContext;
  head: { seq: number; hash: string } | null;
  checkpoint: SignedCheckpoint | null;
  signatureValid: boolean;
  result?: IntegrityResult;
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
      </section>
      <Checkpoint
        ctx={props.ctx}
        checkpoint={props.checkpoint}
        signatureValid={props.signatureValid}
        result={props.result}
      />
      {props.result ? <Verification result={props.result} /> : ''}
      <form method="get" action="/audit/chain">
        <input type="hidden" name="verify" value="1" />
        <button type="submit">Verify the whole chain</button>
      </form>
    </Layout>
  );
}
