import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Which "End now" ended it: one request, a device's every access, a vendor's, or a time window closing. */
export type EndScope = 'request' | 'device' | 'enterprise' | 'window';

/**
 * A live access that the hospital withdrew (issue 14, agent-api.md 1.1 heartbeat `end`):
 * a remote session allowed and not completed, and/or the "approve for N minutes" grant
 * made by the request. Kept so that every replica, after any restart, lists it to the
 * device's agent until the agent confirms (`complete`) or `listUntil` passes, and refuses
 * repeats under the ended grant until the grant would have expired.
 */
@Entity({ name: 'access_ends' })
// Every heartbeat reads the device's unconfirmed ends.
@Index('idx_access_ends_unconfirmed', ['deviceId', 'listUntil'], { where: 'confirmed_at IS NULL' })
// A repeat that the engine sends to approvers looks up an ended grant of the same request.
@Index('idx_access_ends_grant', ['deviceId', 'grantAction', 'grantRemoteUserId', 'grantTargetKey'], {
  where: 'grant_id IS NOT NULL',
})
export class AccessEndEntity {
  /** The request whose session (and/or grant) was ended. */
  @PrimaryColumn({ name: 'request_id', type: 'uuid', primaryKeyConstraintName: 'PK_access_ends' })
  requestId!: string;

  @Column({ name: 'device_id', type: 'text' })
  deviceId!: string;

  /** As the agent reads it: "Ended by bob: vendor finished". */
  @Column({ type: 'text' })
  reason!: string;

  /** The user name, or "system" for a time window that closed. */
  @Column({ name: 'ended_by', type: 'text' })
  endedBy!: string;

  @Column({ name: 'ended_at', type: 'timestamptz' })
  endedAt!: Date;

  @Column({ type: 'text' })
  scope!: EndScope;

  /** Heartbeats list it until then (unless confirmed); null: no session to stop, only a grant. */
  @Column({ name: 'list_until', type: 'timestamptz', nullable: true })
  listUntil!: Date | null;

  /** When the agent reported the session's outcome after the end. */
  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true })
  confirmedAt!: Date | null;

  /** The grant made by this request that was ended with it, and what makes a repeat "the same request". */
  @Column({ name: 'grant_id', type: 'uuid', nullable: true })
  grantId!: string | null;

  @Column({ name: 'grant_action', type: 'text', nullable: true })
  grantAction!: string | null;

  @Column({ name: 'grant_remote_user_id', type: 'text', nullable: true })
  grantRemoteUserId!: string | null;

  @Column({ name: 'grant_target_key', type: 'text', nullable: true })
  grantTargetKey!: string | null;

  /** Repeats are refused until then (when the grant would have expired); afterwards they are asked again. */
  @Column({ name: 'grant_expires_at', type: 'timestamptz', nullable: true })
  grantExpiresAt!: Date | null;
}
