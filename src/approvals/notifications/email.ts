import type { NotificationPayload } from './outbox.js';

const HEADLINES: Record<NotificationPayload['event'], (p: NotificationPayload) => string> = {
  'request.created': (p) => `Approval needed: ${p.action} on ${p.deviceId}`,
  'request.reminder': (p) => `Reminder, expires ${p.expiresAt ?? 'soon'}: ${p.action} on ${p.deviceId}`,
  'request.decided': (p) => `Request ${p.status}: ${p.action} on ${p.deviceId}`,
  'request.break-glass': (p) =>
    `Break-glass by ${p.breakGlass?.by ?? 'an emergency user'}, review needed: ${p.action} on ${p.deviceId}`,
};

/** A plain-text e-mail an approver can act on from a phone: what, where, who, why, until when, and the link. */
export function renderEmail(p: NotificationPayload): { subject: string; text: string } {
  const target = p.target
    ? Object.entries(p.target)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : 'none';
  const lines = [
    HEADLINES[p.event](p),
    '',
    `Device:       ${p.deviceId} (${p.deviceGroups.join(', ') || 'no group'})`,
    `Action:       ${p.action}`,
    `Remote user:  ${p.remoteUser.id}${p.remoteUser.enterprise ? ` (${p.remoteUser.enterprise})` : ''}`,
    `Target:       ${target}`,
    `Ticket:       ${p.ticket ?? 'none'}`,
    `Vendor says:  ${p.vendorReason ?? '(no reason given)'}`,
    `Gatehouse:    ${p.reason}`,
    `Rules:        ${p.rules.join(', ') || 'default'}`,
    `Approvers:    ${p.required} of ${p.approvers.join(', ')}`,
    p.status === 'pending' ? `Expires:      ${p.expiresAt}` : `Outcome:      ${p.status}`,
    ...(p.decidedBy?.length ? [`Decided by:   ${p.decidedBy.join(', ')}`] : []),
    ...(p.breakGlass
      ? [
          `Break-glass:  allowed alone by ${p.breakGlass.by}` +
            (p.breakGlass.grantMinutes ? `, repeats for ${p.breakGlass.grantMinutes} minutes` : ''),
          `Their reason: ${p.breakGlass.reason}`,
          'Another approver must review it (accept, or raise an incident) on the request page.',
        ]
      : []),
    '',
    `Open the request: ${p.link}`,
  ];
  return { subject: `[Gatehouse] ${HEADLINES[p.event](p)}`, text: lines.join('\n') + '\n' };
}
