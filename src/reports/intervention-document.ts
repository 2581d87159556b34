import { formatDuration, type InterventionReport } from './intervention-report.js';
import { orDash, timeIn, type ReportDocument } from './report-sections.js';

/** The intervention report as sections (rendered to HTML and PDF by report-html / report-pdf). */
export function interventionDocument(r: InterventionReport, timeZone: string): ReportDocument {
  const time = timeIn(timeZone);
  const target = r.target
    ? Object.entries(r.target)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ')
    : null;
  const approvedBy = r.approvals.filter((a) => a.vote === 'approved').map((a) => a.by);
  return {
    title: `Intervention report: ${orDash(r.action)} on ${orDash(r.deviceId)}`,
    subtitle: `Request ${r.requestId}`,
    sections: [
      {
        title: 'Intervention',
        facts: [
          ['Device', orDash(r.deviceId)],
          ['Vendor user', orDash(r.remoteUser)],
          ['Enterprise', orDash(r.enterprise)],
          ['Ticket', orDash(r.ticket)],
          ["Vendor's reason", orDash(r.vendorReason)],
          ['Asked', `${orDash(r.action)}${target ? ` (${target})` : ''} at ${time(r.askedAt)}`],
        ],
      },
      {
        title: 'Decision',
        facts: [
          ['First answer', orDash(r.firstAnswer)],
          ['Final answer', orDash(r.finalAnswer)],
          ["Gatehouse's reason", orDash(r.reason)],
          ['Rules', r.rules.join(', ') || 'the default'],
          ['Approved by', approvedBy.join(', ') || '—'],
        ],
        table: {
          caption: 'Approvals',
          head: ['Who', 'Vote', 'When', 'Grant asked', 'Comment'],
          rows: r.approvals.map((a) => [
            a.by,
            a.vote,
            time(a.at),
            a.grantMinutes ? `${a.grantMinutes} min` : '—',
            orDash(a.comment),
          ]),
          empty: 'No approval was needed or given.',
        },
      },
      {
        title: 'Break-glass',
        facts: r.breakGlass
          ? [
              ['Allowed alone by', `${r.breakGlass.by} at ${time(r.breakGlass.at)}`],
              ['Reason', orDash(r.breakGlass.reason)],
              ['Grant asked', r.breakGlass.grantMinutes ? `${r.breakGlass.grantMinutes} min` : '—'],
              [
                'Review',
                r.breakGlass.review
                  ? `${r.breakGlass.review.verdict} by ${r.breakGlass.review.by} at ${time(r.breakGlass.review.at)}` +
                    (r.breakGlass.review.comment ? `: ${r.breakGlass.review.comment}` : '')
                  : 'NEEDS REVIEW: no other approver has reviewed it yet',
              ],
            ]
          : [['Break-glass', 'not used']],
      },
      {
        title: 'Actions under the grant',
        facts: r.grant
          ? [
              ['Grant', `from ${time(r.grant.createdAt)} until ${time(r.grant.expiresAt)}`],
              ['Grant ended', r.grant.endedAt ? `${time(r.grant.endedAt)} by ${orDash(r.grant.endedBy)}` : '—'],
            ]
          : [['Grant', 'none']],
        table: {
          caption: 'Actions allowed under the grant',
          head: ['Request', 'When', 'Answer', 'Reported'],
          rows: r.actions.map((a) => [a.requestId, time(a.at), orDash(a.outcome), orDash(a.completed)]),
          empty: 'No action under a grant.',
        },
      },
      {
        title: 'Session',
        facts: [
          ['Start', time(r.start)],
          ['End', time(r.end)],
          ['Duration', formatDuration(r.durationSeconds)],
          ['Outcome', orDash(r.outcome)],
          [
            'Ended now by staff',
            r.endedNow ? `${r.endedNow.by} at ${time(r.endedNow.at)}: ${orDash(r.endedNow.reason)}` : '—',
          ],
          ['Obligations', r.obligations.join(', ') || 'none'],
          [
            'Local consent',
            r.consentMissing
              ? 'MISSING: the agent reported no operator consent (flagged for review)'
              : r.consent
                ? `by ${orDash(r.consent.by)} at ${orDash(r.consent.at)}`
                : '—',
          ],
        ],
      },
      {
        title: 'Built from the audit trail',
        facts: [
          ['Last record', String(r.lastSeq)],
          [
            'Signed checkpoint',
            r.checkpoint
              ? `seq ${r.checkpoint.seq}, hash ${r.checkpoint.hash}, key ${r.checkpoint.keyId}, at ${time(r.checkpoint.at)}`
              : 'none',
          ],
        ],
      },
    ],
  };
}
