import { createHmac, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { jwtVerify, SignJWT } from 'jose';
import { DataSource } from 'typeorm';
import { readSetting, writeSettingOnce } from '../database/settings.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

// Pinned: tokens signed any other way (including "none") are refused.
const ALGORITHM = 'HS256';
const ISSUER = 'gatehouse';
export const STAFF_AUDIENCE = 'gatehouse-staff';
const SIGNING_KEY_SETTING = 'token_signing_key';

export interface StaffTokenClaims {
  sub: string;
  sid: string;
}

/**
 * Signs and checks staff bearer tokens. The key is GATEHOUSE_TOKEN_SECRET, or else a
 * random key generated once and kept in the database so that every replica shares it.
 */
@Injectable()
export class TokenService implements OnModuleInit {
  private key!: Uint8Array;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.GATEHOUSE_TOKEN_SECRET) {
      this.key = new TextEncoder().encode(this.config.GATEHOUSE_TOKEN_SECRET);
      return;
    }
    await writeSettingOnce(this.dataSource, SIGNING_KEY_SETTING, randomBytes(32).toString('base64'));
    this.key = Buffer.from((await readSetting<string>(this.dataSource, SIGNING_KEY_SETTING))!, 'base64');
  }

  sign(claims: StaffTokenClaims, expiresAt: Date): Promise<string> {
    return (
      new SignJWT({ sid: claims.sid })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(claims.sub)
        .setIssuer(ISSUER)
        .setAudience(STAFF_AUDIENCE)
        // Issued and checked on the injected clock, like the session it names.
        .setIssuedAt(Math.floor(this.clock.now().getTime() / 1000))
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(this.key)
    );
  }

  /**
   * A value bound to one session for one purpose (the console's CSRF token): every replica
   * derives the same from the shared key, and it is worthless for any other session.
   */
  sessionTag(purpose: string, sessionId: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\0${sessionId}`).digest('base64url');
  }

  /** Returns the claims, or null for any token that is malformed, forged, expired or for another audience. */
  async verify(token: string): Promise<StaffTokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: STAFF_AUDIENCE,
        requiredClaims: ['exp', 'sub', 'sid'],
        currentDate: this.clock.now(),
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return null;
      return { sub: payload.sub, sid: payload.sid };
    } catch {
      return null;
    }
  }
}
