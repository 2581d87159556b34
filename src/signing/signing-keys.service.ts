import { readFileSync } from 'node:fs';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import {
  ALGORITHM,
  generateKeyPair,
  type KeyPairPem,
  keyPairFromPrivatePem,
  signPayload,
  verifyPayload,
} from './signatures.js';

export interface PublicKeyView {
  keyId: string;
  algorithm: typeof ALGORITHM;
  publicKey: string;
  createdAt: string;
  retiredAt: string | null;
}

export interface Signed {
  keyId: string;
  signature: string;
}

// Replicas starting together, or a rotation racing a start, take turns on this lock.
const KEY_LOCK = 0x7369_676e; // "sign"

interface KeyRow {
  key_id: string;
  public_key: string;
  private_key: string | null;
  created_at: Date;
  retired_at: Date | null;
}

/**
 * The appliance's Ed25519 signing key: audit checkpoints now, agents' offline policies later.
 * The key is AUDIT_SIGNING_KEY_FILE when set (then the database holds only its public half, so
 * a database owner cannot sign), else one generated at the first start and kept in the
 * database (shared by every replica). Retired keys stay published so old signatures verify.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit {
  private readonly privateKeys = new Map<string, KeyObject>();
  private readonly fileKey: KeyPairPem | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    const file = config.AUDIT_SIGNING_KEY_FILE;
    this.fileKey = file ? keyPairFromPrivatePem(readFileSync(file, 'utf8'), 'AUDIT_SIGNING_KEY_FILE') : undefined;
  }

  async onModuleInit(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const current = await this.currentRow(manager);
      if (this.fileKey) {
        if (current?.key_id !== this.fileKey.keyId)
          await this.replaceCurrent(manager, { ...this.fileKey, privateKey: null });
      } else if (!current || current.private_key === null) {
        // First start, or the key file was taken out of the configuration: a new key from here on.
        await this.replaceCurrent(manager, generateKeyPair());
      }
    });
  }

  /**
   * Returns the fields with `keyId` (the current key's) and `signature`: base64 Ed25519 over the
   * RFC 8785 canonical JSON of the fields and keyId, i.e. of every field but the signature.
   */
  async sign<T extends Record<string, unknown>>(fields: T): Promise<T & Signed> {
    const current = await this.currentRow(this.dataSource.manager);
    if (!current) throw new Error('No current signing key');
    const unsigned = { ...fields, keyId: current.key_id };
    return { ...unsigned, signature: signPayload(unsigned, this.privateKeyOf(current)) };
  }

  /** Whether one of this appliance's keys (current or retired) signed the object's other fields. */
  async verify(signed: Record<string, unknown> & Signed): Promise<boolean> {
    const { signature, ...unsigned } = signed;
    const key = (await this.publicKeys()).find((k) => k.keyId === signed.keyId);
    return key !== undefined && verifyPayload(unsigned, signature, key.publicKey);
  }

  /** Every key, the current one first. */
  async publicKeys(): Promise<PublicKeyView[]> {
    const rows = await this.dataSource.query<KeyRow[]>(
      'SELECT key_id, public_key, created_at, retired_at FROM signing_keys ORDER BY retired_at DESC NULLS FIRST, created_at DESC',
    );
    return rows.map((r) => ({
      keyId: r.key_id,
      algorithm: ALGORITHM,
      publicKey: r.public_key,
      createdAt: r.created_at.toISOString(),
      retiredAt: r.retired_at?.toISOString() ?? null,
    }));
  }

  /**
   * Retires the current key and makes a new one, in the caller's transaction (which audits it).
   * Refused with a key file: the file is the key, so rotating means replacing the file.
   */
  async rotateIn(manager: EntityManager): Promise<{ retiredKeyId: string | null; keyId: string }> {
    if (this.fileKey) {
      throw new Error('The signing key is AUDIT_SIGNING_KEY_FILE: put a new key in that file and restart instead');
    }
    await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
    const current = await this.currentRow(manager);
    const next = generateKeyPair();
    await this.replaceCurrent(manager, next);
    return { retiredKeyId: current?.key_id ?? null, keyId: next.keyId };
  }

  private async currentRow(manager: EntityManager): Promise<KeyRow | undefined> {
    const rows = await manager.query<KeyRow[]>(
      'SELECT key_id, public_key, private_key, created_at, retired_at FROM signing_keys WHERE algorithm = $1 AND retired_at IS NULL',
      [ALGORITHM],
    );
    return rows[0];
  }

  private async replaceCurrent(
    manager: EntityManager,
    key: { keyId: string; publicKey: string; privateKey: string | null },
  ): Promise<void> {
    const now = this.clock.now();
    await manager.query('UPDATE signing_keys SET retired_at = $1 WHERE algorithm = $2 AND retired_at IS NULL', [
      now,
      ALGORITHM,
    ]);
    // A file key used before (and retired since) becomes current again.
    await manager.query(
      `INSERT INTO signing_keys (key_id, algorithm, public_key, private_key, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key_id) DO UPDATE SET retired_at = NULL`,
      [key.keyId, ALGORITHM, key.publicKey, key.privateKey, now],
    );
  }

  private privateKeyOf(row: KeyRow): KeyObject {
    let key = this.privateKeys.get(row.key_id);
    if (!key) {
      const pem = row.key_id === this.fileKey?.keyId ? this.fileKey.privateKey : row.private_key;
      if (!pem) throw new Error(`The private half of signing key ${row.key_id} is not here (AUDIT_SIGNING_KEY_FILE?)`);
      key = createPrivateKey(pem);
      this.privateKeys.set(row.key_id, key);
    }
    return key;
  }
}
