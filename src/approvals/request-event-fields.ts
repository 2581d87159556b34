import type { DecisionRequestEntity } from '../decisions/decision-request.entity.js';

/** What an audit record about a request (a vote, an expiry, a break-glass and its review) says of it. */
export function requestEventFields(request: DecisionRequestEntity) {
  return {
    deviceId: request.deviceId,
    action: request.action,
    remoteUser: request.remoteUser.id,
    requestId: request.requestId,
    ruleIds: request.ruleIds,
    policyVersion: request.policyVersion,
  };
}
