import { Injectable } from '@nestjs/common';
import { InvalidCredentialsError } from 'ldapts';
import { DataSource } from 'typeorm';
import type { UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { readCursor } from './directory-status.js';
import { DirectorySyncService } from './directory-sync.service.js';
import { classifyDirectoryError } from './directory.errors.js';
import { closeQuietly, openConnection } from './ldap-connection.js';
import { parseLoginName, type LoginName } from './login-name.js';

/** Why a directory sign-in was refused (audited; never shown to the caller). */
export type RefusalReason = 'unknown_user' | 'invalid_name' | 'empty_password' | 'disabled' | 'bad_password';

const SIGN_IN_TIMEOUT_MS = 10_000;

export type DirectorySignIn = { user: UserEntity } | { refused: RefusalReason };

interface Account {
  id: string;
  username: string;
  dn: string;
  disabled: boolean;
}

/**
 * Directory sign-in: the account is found in the synced copy (by sAMAccountName, UPN or
 * DOMAIN\name) and the password checked by binding as that account's stored DN over TLS.
 * INVARIANT: nothing the person typed goes into an LDAP filter or DN; the bind DN comes from the
 * directory itself.
 */
@Injectable()
export class DirectoryAuthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sync: DirectorySyncService,
    private readonly users: UsersService,
  ) {}

  get enabled(): boolean {
    return this.sync.settings !== null;
  }

  /** The user name a sign-in name stands for (so `HOSP\ann`, `ann@hosp.test` and `ann` share one throttle). */
  async canonicalName(input: string): Promise<string | null> {
    if (!this.enabled) return null;
    const name = parseLoginName(input);
    return name ? ((await this.find(name))?.username ?? null) : null;
  }

  async authenticate(input: string, password: string): Promise<DirectorySignIn> {
    if (!this.enabled) return { refused: 'unknown_user' };
    // An empty password would be an "unauthenticated bind", which directories report as success.
    if (password.trim().length === 0) return { refused: 'empty_password' };
    const name = parseLoginName(input);
    if (!name) return { refused: 'invalid_name' };
    const account = await this.find(name);
    if (!account) return { refused: 'unknown_user' };
    if (account.disabled) return { refused: 'disabled' };
    const settings = this.sync.settings!;
    // A person waits for this answer: a slow directory gets at most SIGN_IN_TIMEOUT_MS, not a sync's time-out.
    const client = await openConnection(settings, { timeoutMs: Math.min(settings.timeoutMs, SIGN_IN_TIMEOUT_MS) });
    try {
      await client.bind(account.dn, password);
    } catch (error) {
      // Anything but "invalid credentials" (data 52e wrong password, 533 disabled, 775 locked…)
      // means the directory could not answer: a 503, not a failed guess.
      if (error instanceof InvalidCredentialsError) return { refused: 'bad_password' };
      throw classifyDirectoryError(error, 'connect', settings);
    } finally {
      await closeQuietly(client);
    }
    const user = await this.users.findById(account.id);
    return user ? { user } : { refused: 'unknown_user' };
  }

  private async find(name: LoginName): Promise<Account | undefined> {
    const select = `SELECT u.id, u.username, du.dn, u.disabled FROM users u JOIN directory_users du ON du.user_id = u.id
                    WHERE du.removed_at IS NULL AND u.source = 'directory' AND`;
    const byAccount = async (account: string) =>
      (await this.dataSource.query<Account[]>(`${select} u.username = $1`, [account]))[0];
    switch (name.form) {
      case 'plain':
        return byAccount(name.account);
      case 'upn': {
        const byUpn = (await this.dataSource.query<Account[]>(`${select} du.upn = $1`, [name.upn]))[0];
        if (byUpn) return byUpn;
        const cursor = await readCursor(this.dataSource);
        return cursor?.dnsDomain === name.suffix ? byAccount(name.account) : undefined;
      }
      case 'down-level': {
        const cursor = await readCursor(this.dataSource);
        const domains = [cursor?.netbiosDomain, cursor?.dnsDomain].filter(Boolean);
        return domains.includes(name.domain) ? byAccount(name.account) : undefined;
      }
    }
  }
}
