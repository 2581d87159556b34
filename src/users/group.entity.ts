import { Column, CreateDateColumn, Entity, JoinTable, ManyToMany, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from './user.entity.js';

/** A local group, or a synced directory group; `access` in the policy files maps groups to roles. */
@Entity({ name: 'groups' })
export class GroupEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'text', default: 'local' })
  source!: 'local' | 'directory';

  @Column({ type: 'text', default: '' })
  description!: string;

  /**
   * Other spellings the policy files may use for this group, normalised (see normalizeGroupRef):
   * a directory group's CN and DN. Empty for local groups.
   */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  aliases!: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @ManyToMany(() => UserEntity)
  @JoinTable({
    name: 'group_members',
    joinColumn: { name: 'group_id', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'user_id', referencedColumnName: 'id' },
  })
  members!: UserEntity[];
}
