import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The appliance's signing keys, current and retired (retired keys stay: what they signed must
 * still verify). INVARIANT: at most one key per algorithm is current (retired_at IS NULL), so
 * replicas starting together create one key between them ("whichever lands first").
 */
@Entity({ name: 'signing_keys' })
@Index('idx_signing_keys_current', ['algorithm'], { unique: true, where: 'retired_at IS NULL' })
export class SigningKeyEntity {
  /** The first 16 hex digits of the SHA-256 of the public key (SPKI DER). */
  @PrimaryColumn({ name: 'key_id', type: 'text' })
  keyId!: string;

  @Column({ type: 'text' })
  algorithm!: string;

  @Column({ name: 'public_key', type: 'text' })
  publicKey!: string;

  /** PKCS#8 PEM; null when the key lives in AUDIT_SIGNING_KEY_FILE (then only the public half is here). */
  @Column({ name: 'private_key', type: 'text', nullable: true })
  privateKey!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;
}
