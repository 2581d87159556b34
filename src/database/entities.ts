import { AccessEndEntity } from '../access/access-end.entity.js';
import { ApprovalVoteEntity } from '../approvals/approval-vote.entity.js';
import { BreakGlassUseEntity } from '../approvals/break-glass/break-glass-use.entity.js';
import { ApprovalNoticeEntity } from '../approvals/notifications/approval-notice.entity.js';
import { NotificationEntity } from '../approvals/notifications/notification.entity.js';
import { AuditCheckpointEntity } from '../audit/audit-checkpoint.entity.js';
import { AuditRecordEntity } from '../audit/audit-record.entity.js';
import { AuditForwardCursorEntity } from '../audit/forwarding/forward-cursor.entity.js';
import { LoginThrottleEntity } from '../auth/login-throttle.entity.js';
import { SessionEntity } from '../auth/session.entity.js';
import { DeviceEntity } from '../devices/device.entity.js';
import { EnrollmentTokenEntity } from '../devices/enrollment-token.entity.js';
import { DecisionRequestEntity } from '../decisions/decision-request.entity.js';
import { GrantEntity } from '../approvals/grants/grant.entity.js';
import { ConsoleRuleEntity } from '../policies/console-rule.entity.js';
import { PolicyVersionEntity } from '../policies/policy-version.entity.js';
import { DirectoryGroupEntity } from '../directory/directory-group.entity.js';
import { DirectoryUserEntity } from '../directory/directory-user.entity.js';
import { GroupEntity } from '../users/group.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { SigningKeyEntity } from '../signing/signing-key.entity.js';
import { SettingEntity } from './setting.entity.js';
import { OfflinePolicyIssueEntity } from '../agent-policy/offline-policy-issue.entity.js';

/** Every entity, listed once: the app, the CLI and the migration check share this list. */
export const ENTITIES = [
  UserEntity,
  GroupEntity,
  SessionEntity,
  LoginThrottleEntity,
  SettingEntity,
  AuditRecordEntity,
  AuditCheckpointEntity,
  AuditForwardCursorEntity,
  SigningKeyEntity,
  DeviceEntity,
  EnrollmentTokenEntity,
  PolicyVersionEntity,
  ConsoleRuleEntity,
  DecisionRequestEntity,
  ApprovalVoteEntity,
  GrantEntity,
  NotificationEntity,
  ApprovalNoticeEntity,
  DirectoryUserEntity,
  DirectoryGroupEntity,
  OfflinePolicyIssueEntity,
  AccessEndEntity,
  BreakGlassUseEntity,
];
