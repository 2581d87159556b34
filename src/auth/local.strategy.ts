import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { DirectoryAuthService } from '../directory/directory-auth.service.js';
import { verifyPassword } from '../users/passwords.js';
import type { UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { LoginRefused } from './login-refused.js';

/**
 * Passport's local strategy: a user name and password checked against the internal user store.
 * A name that is not a local user is passed on (Passport then tries the directory strategy).
 */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(
    private readonly users: UsersService,
    private readonly directory: DirectoryAuthService,
  ) {
    super({ usernameField: 'username', passwordField: 'password', session: false });
  }

  async validate(username: string, password: string): Promise<UserEntity | false> {
    const user = await this.users.findByUsername(username);
    if (!user || user.source !== 'local') {
      // Without a directory, verify anyway so the answer's timing does not tell which names exist.
      if (!this.directory.enabled) await verifyPassword(null, password);
      return false;
    }
    const passwordOk = await verifyPassword(user.passwordHash, password);
    if (!passwordOk) throw new LoginRefused('bad_password');
    if (user.disabled) throw new LoginRefused('disabled');
    return user;
  }
}
