import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type UserSource = 'local' | 'directory';

/** A member of staff: a local account (break-glass, appliances without AD) or a synced directory user. */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Lower-cased: sign-in names are case-insensitive, as in Active Directory. */
  @Column({ type: 'text', unique: true })
  username!: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName!: string;

  /** Where approval requests and reminders are e-mailed (none: no e-mail). */
  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @Column({ type: 'text', default: 'local' })
  source!: UserSource;

  /** argon2id; null for directory users, who sign in with their directory password. */
  @Column({ name: 'password_hash', type: 'text', nullable: true })
  passwordHash!: string | null;

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
