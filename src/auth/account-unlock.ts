import { Injectable } from '@nestjs/common';
import { actorEvent, type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { notFound } from '../common/api-error.js';
import { normalizeUsername } from '../users/users.service.js';
import { LoginThrottleService } from './login-throttle.service.js';

/** An administrator lets a locked user name sign in again at once (API and console), audited. */
@Injectable()
export class AccountUnlock {
  constructor(
    private readonly throttle: LoginThrottleService,
    private readonly audit: AuditService,
  ) {}

  async unlock(username: string, actor: Actor): Promise<void> {
    const name = normalizeUsername(username);
    if (!(await this.throttle.unlock(name))) throw notFound('Locked user name');
    await this.audit.append(actorEvent(actor, 'user.unlocked', { details: { username: name } }));
  }
}
