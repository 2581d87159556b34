import { actorEvent, type Actor } from '../audit/actor.js';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { notFound } from '../common/api-error.js';
import { Clock } from '../common/clock.js';
import { EnrollmentTokenEntity } from './enrollment-token.entity.js';
import { generateSecret, hashSecret } from './secrets.js';

export interface EnrollmentTokenView {
  id: string;
  deviceGroups: string[];
  expiresAt: Date;
  maxUses: number;
  uses: number;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const view = (t: EnrollmentTokenEntity): EnrollmentTokenView => ({
  id: t.id,
  deviceGroups: t.deviceGroups,
  expiresAt: t.expiresAt,
  maxUses: t.maxUses,
  uses: t.uses,
  createdBy: t.createdBy,
  createdAt: t.createdAt,
  revokedAt: t.revokedAt,
});

@Injectable()
export class EnrollmentTokensService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Creates a token; the secret is returned here once and stored only as a hash. */
  async create(
    input: { deviceGroups?: string[]; expiresInHours: number; maxUses: number },
    actor: Actor,
  ): Promise<{ id: string; token: string; expiresAt: Date }> {
    const token = generateSecret('ghe');
    const expiresAt = new Date(this.clock.now().getTime() + input.expiresInHours * 3_600_000);
    return this.dataSource.transaction(async (m) => {
      const rows = await m.query<{ id: string }[]>(
        `INSERT INTO enrollment_tokens (token_hash, device_groups, expires_at, max_uses, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [hashSecret(token), input.deviceGroups ?? [], expiresAt, input.maxUses, actor.id, this.clock.now()],
      );
      const id = rows[0].id;
      await this.audit.appendIn(
        m,
        actorEvent(actor, 'enrollment_token.created', {
          details: {
            tokenId: id,
            deviceGroups: input.deviceGroups ?? [],
            expiresAt: expiresAt.toISOString(),
            maxUses: input.maxUses,
          },
        }),
      );
      return { id, token, expiresAt };
    });
  }

  async list(): Promise<EnrollmentTokenView[]> {
    const tokens = await this.dataSource.getRepository(EnrollmentTokenEntity).find({ order: { createdAt: 'DESC' } });
    return tokens.map(view);
  }

  async revoke(id: string, actor: Actor): Promise<EnrollmentTokenView> {
    await this.dataSource.transaction(async (m) => {
      const [rows] = await m.query<[{ id: string }[], number]>(
        'UPDATE enrollment_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id',
        [id, this.clock.now()],
      );
      if (rows.length === 0) throw notFound('Live enrollment token');
      await this.audit.appendIn(m, actorEvent(actor, 'enrollment_token.revoked', { details: { tokenId: id } }));
    });
    return view((await this.dataSource.getRepository(EnrollmentTokenEntity).findOneBy({ id }))!);
  }

  /**
   * Takes one use of a token, atomically: concurrent enrollments cannot exceed maxUses.
   * Returns null for an unknown, expired, used-up or revoked token.
   */
  async consume(m: EntityManager, token: string): Promise<EnrollmentTokenEntity | null> {
    const [rows] = await m.query<[{ id: string; device_groups: string[] }[], number]>(
      `UPDATE enrollment_tokens SET uses = uses + 1
       WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses
       RETURNING id, device_groups`,
      [hashSecret(token), this.clock.now()],
    );
    const row = rows[0];
    if (!row) return null;
    return Object.assign(new EnrollmentTokenEntity(), { id: row.id, deviceGroups: row.device_groups });
  }
}
