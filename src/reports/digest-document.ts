import type { Digest } from './digest.js';
import { formatDuration } from './intervention-report.js';
import { orDash, timeIn, type ReportDocument } from './report-sections.js';

/** The digest as sections (rendered to HTML and PDF like the intervention report). */
export function digestDocument(d: Digest, timeZone: string): ReportDocument {
  const time = timeIn(timeZone);
  const effects = Object.entries(d.byEffect).sort(([a], [b]) => a.localeCompare(b));
  const total = effects.reduce((n, [, c]) => n + c, 0);
  return {
    title: `${d.span.period === 'daily' ? 'Daily' : 'Weekly'} digest: ${d.group}, ${d.span.date}`,
    subtitle: `From ${time(d.span.from)} to ${time(d.span.to)}`,
    sections: [
      {
        title: 'Requests',
        facts: [['Requests', String(total)], ...effects.map(([effect, n]): [string, string] => [effect, String(n)])],
      },
      {
        title: 'Denials',
        table: {
          caption: 'Denied and rejected requests',
          head: ['When', 'Request', 'Device', 'Action', 'Vendor user', 'Why'],
          rows: d.denials.map((x) => [
            time(x.at),
            orDash(x.requestId),
            orDash(x.deviceId),
            orDash(x.action),
            x.who,
            orDash(x.why),
          ]),
          empty: 'No denial.',
        },
      },
      {
        title: 'Approvals',
        table: {
          caption: 'Votes by approver',
          head: ['Approver', 'Approved', 'Rejected'],
          rows: d.approvals.map((a) => [a.by, String(a.approved), String(a.rejected)]),
          empty: 'No vote.',
        },
      },
      {
        title: 'Expired unanswered',
        facts: [['Expired unanswered', String(d.expiredUnanswered.length)]],
        table: {
          caption: 'Requests that expired without an answer',
          head: ['Expired', 'Request', 'Device', 'Action'],
          rows: d.expiredUnanswered.map((x) => [time(x.at), orDash(x.requestId), orDash(x.deviceId), orDash(x.action)]),
          empty: 'None.',
        },
      },
      {
        title: 'Break-glass',
        facts: [['Break-glass uses', String(d.breakGlass.length)]],
        table: {
          caption: 'Requests allowed alone by a member of an emergency group',
          head: ['When', 'Request', 'Device', 'Action', 'By', 'Reason', 'Review'],
          rows: d.breakGlass.map((x) => [
            time(x.at),
            orDash(x.requestId),
            orDash(x.deviceId),
            orDash(x.action),
            x.by,
            orDash(x.reason),
            x.review ?? "not reviewed by the period's end",
          ]),
          empty: 'None.',
        },
      },
      {
        title: 'Consent missing',
        facts: [['Completed without local consent', String(d.consentMissing.length)]],
        table: {
          caption: "Attended allows completed without the operator's consent (flagged for review)",
          head: ['Completed', 'Request', 'Device', 'Action'],
          rows: d.consentMissing.map((x) => [time(x.at), orDash(x.requestId), orDash(x.deviceId), orDash(x.action)]),
          empty: 'None.',
        },
      },
      {
        title: 'Longest sessions',
        table: {
          caption: 'Completed sessions, longest first',
          head: ['Request', 'Device', 'Action', 'Duration', 'Outcome'],
          rows: d.longest.map((x) => [
            orDash(x.requestId),
            orDash(x.deviceId),
            orDash(x.action),
            formatDuration(x.seconds),
            orDash(x.outcome),
          ]),
          empty: 'No completed session.',
        },
      },
      {
        title: 'Built from the audit trail',
        facts: [
          ['Last record', String(d.lastSeq)],
          [
            'Signed checkpoint',
            d.checkpoint
              ? `seq ${d.checkpoint.seq}, hash ${d.checkpoint.hash}, key ${d.checkpoint.keyId}, at ${time(d.checkpoint.at)}`
              : 'none',
          ],
        ],
      },
    ],
  };
}
