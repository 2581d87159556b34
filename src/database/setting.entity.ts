import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Appliance-wide values shared by every replica (e.g. the generated token signing key). */
@Entity({ name: 'settings' })
export class SettingEntity {
  @PrimaryColumn({ type: 'text' })
  key!: string;

  @Column({ type: 'jsonb' })
  value!: unknown;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
