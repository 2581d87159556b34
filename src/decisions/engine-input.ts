import type { DeviceEntity } from '../devices/device.entity.js';
import { STATE_MAX_AGE_MS } from '../devices/devices.service.js';
import type { DecisionInput } from '../policies/engine/decision.types.js';
import type { DecideBody } from './decisions.dto.js';

/** What the engine decides on: the request, the device as Gatehouse knows it (its groups given), the instant. */
export function engineInput(
  device: DeviceEntity,
  groups: ReadonlySet<string>,
  request: Pick<DecideBody, 'action' | 'remoteUser' | 'target' | 'context'>,
  nowMs: number,
): DecisionInput {
  return {
    action: request.action,
    remoteUser: request.remoteUser,
    target: request.target,
    context: request.context,
    device: {
      id: device.id,
      groups,
      state: device.state,
      stateReportedAt: device.stateReportedAt?.getTime() ?? null,
    },
    now: nowMs,
    stateMaxAgeMs: STATE_MAX_AGE_MS,
  };
}
