import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Failed sign-ins per user name (known or not, so the answer does not reveal which
 * names exist). Kept in the database so that every replica throttles alike.
 */
@Entity({ name: 'login_throttle' })
export class LoginThrottleEntity {
  @PrimaryColumn({ type: 'text' })
  username!: string;

  @Column({ type: 'integer', default: 0 })
  failures!: number;

  @Column({ name: 'last_failure_at', type: 'timestamptz', nullable: true })
  lastFailureAt!: Date | null;

  @Column({ name: 'blocked_until', type: 'timestamptz', nullable: true })
  blockedUntil!: Date | null;
}
