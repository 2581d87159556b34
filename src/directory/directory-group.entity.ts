import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { GroupEntity } from '../users/group.entity.js';

/**
 * The directory side of a synced group (groups.source = 'directory'): objectGUID identity and
 * its direct members, kept so an incremental sync can re-resolve nesting without reading every group.
 */
@Entity({ name: 'directory_groups' })
export class DirectoryGroupEntity {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId!: string;

  @OneToOne(() => GroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group?: GroupEntity;

  @Column({ type: 'uuid', unique: true })
  guid!: string;

  @Column({ type: 'text' })
  dn!: string;

  @Column({ type: 'text' })
  cn!: string;

  /** objectGUIDs of the direct members (users and groups) in scope. */
  @Column({ name: 'member_guids', type: 'uuid', array: true, default: () => "'{}'" })
  memberGuids!: string[];

  @Column({ name: 'usn_changed', type: 'bigint', default: 0 })
  usnChanged!: string;
}
