import type { ApprovalSummary } from '../../approvals/approval-queue.js';
import { formatAge } from '../console-time.js';

export const deviceLabel = (item: ApprovalSummary) =>
  [item.device.model, item.device.id].filter(Boolean).join(' ') || item.device.id;

/** "In clinical use, reported 3 min ago": the state an approver weighs most. */
export function DeviceState(props: { item: ApprovalSummary; now: Date }): JSX.Element {
  const inUse = props.item.device.state?.inUse;
  const state = inUse === true ? 'In clinical use' : inUse === false ? 'Idle' : 'State not reported';
  const fresh = props.item.device.stateReportedAt
    ? `, reported ${formatAge(props.item.device.stateReportedAt, props.now)}`
    : '';
  return (
    <span class={inUse === true ? 'status pending' : undefined} safe>
      {state + fresh}
    </span>
  );
}
