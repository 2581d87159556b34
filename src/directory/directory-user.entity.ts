import { Column, Entity, Index, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity.js';

/**
 * The directory side of a synced user (users.source = 'directory'): its objectGUID identity and
 * the attributes sign-in needs. users.username is the lower-cased sAMAccountName.
 */
@Entity({ name: 'directory_users' })
export class DirectoryUserEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @OneToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  /** objectGUID: stays the same across renames and moves. */
  @Column({ type: 'uuid', unique: true })
  guid!: string;

  /** The DN sign-in binds with (as the directory spelled it at the last sync). */
  @Column({ type: 'text' })
  dn!: string;

  /** userPrincipalName, lower-cased, for `user@domain` sign-in. */
  @Index()
  @Column({ type: 'text', nullable: true })
  upn!: string | null;

  @Column({ type: 'text', nullable: true })
  mail!: string | null;

  /**
   * Disabled in the directory (userAccountControl). users.disabled is this OR a Gatehouse
   * administrator's disable, which a sync keeps (an incident response must not be undone by AD).
   */
  @Column({ name: 'directory_disabled', type: 'boolean', default: false })
  directoryDisabled!: boolean;

  @Column({ name: 'usn_changed', type: 'bigint', default: 0 })
  usnChanged!: string;

  /** Set when the account left the directory (deleted or out of scope); the user then holds no role. */
  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt!: Date | null;
}
