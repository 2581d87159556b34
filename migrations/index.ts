import { Init1795446766654 } from './1795446766654-Init.js';
import { Devices1795448858684 } from './1795448858684-Devices.js';
import { PolicyVersions1795449739869 } from './1795449739869-PolicyVersions.js';
import { DecisionRequests1795450416450 } from './1795450416450-DecisionRequests.js';
import { ConsoleRules1795451459051 } from './1795451459051-ConsoleRules.js';
import { Approvals1795454791734 } from './1795454791734-Approvals.js';
import { Directory1795457126557 } from './1795457126557-Directory.js';
import { ApprovalOutcomes1795458383757 } from './1795458383757-ApprovalOutcomes.js';
import { OneTripCommits1795462419446 } from './1795462419446-OneTripCommits.js';
import { PartialDecisionIndexes1796553882852 } from './1796553882852-PartialDecisionIndexes.js';
import { SignedCheckpoints1796560000000 } from './1796560000000-SignedCheckpoints.js';
import { AuditSearchIndexes1796600000000 } from './1796600000000-AuditSearchIndexes.js';
import { DeviceGroupScope1796610000000 } from './1796610000000-DeviceGroupScope.js';
import { DecisionsAuditThroughAudit1796620000000 } from './1796620000000-DecisionsAuditThroughAudit.js';
import { OfflinePolicyAndObligations1796625000000 } from './1796625000000-OfflinePolicyAndObligations.js';
import { AuditForwarding1796630000000 } from './1796630000000-AuditForwarding.js';
import { AccessEnds1796634000000 } from './1796634000000-AccessEnds.js';
import { AuditRetention1796640000000 } from './1796640000000-AuditRetention.js';
import { BreakGlass1796645000000 } from './1796645000000-BreakGlass.js';
import { ApprovalNotices1796650000000 } from './1796650000000-ApprovalNotices.js';
import { AuditInbox1796660000000 } from './1796660000000-AuditInbox.js';
import { AuditEnqueueParseOnce1796668000000 } from './1796668000000-AuditEnqueueParseOnce.js';

// Every migration, in order. The app and the CLI load this list (no globbing, so the
// compiled app cannot pick up a stray file).
export const MIGRATIONS: Function[] = [
  Init1795446766654,
  Devices1795448858684,
  PolicyVersions1795449739869,
  DecisionRequests1795450416450,
  ConsoleRules1795451459051,
  Approvals1795454791734,
  Directory1795457126557,
  ApprovalOutcomes1795458383757,
  OneTripCommits1795462419446,
  PartialDecisionIndexes1796553882852,
  SignedCheckpoints1796560000000,
  AuditSearchIndexes1796600000000,
  DeviceGroupScope1796610000000,
  DecisionsAuditThroughAudit1796620000000,
  OfflinePolicyAndObligations1796625000000,
  AuditForwarding1796630000000,
  AccessEnds1796634000000,
  AuditRetention1796640000000,
  BreakGlass1796645000000,
  ApprovalNotices1796650000000,
  AuditInbox1796660000000,
  AuditEnqueueParseOnce1796668000000,
];
