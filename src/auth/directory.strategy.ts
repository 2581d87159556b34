import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { DirectoryAuthService } from '../directory/directory-auth.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { LoginRefused } from './login-refused.js';

/**
 * Passport strategy for directory users: binds as the person over TLS (see DirectoryAuthService).
 * Tried after the local strategy; a directory that cannot be reached is an error (503), not a refusal.
 */
@Injectable()
export class DirectoryStrategy extends PassportStrategy(Strategy, 'directory') {
  constructor(private readonly directory: DirectoryAuthService) {
    super({ usernameField: 'username', passwordField: 'password', session: false });
  }

  async validate(username: string, password: string): Promise<UserEntity> {
    const result = await this.directory.authenticate(username, password);
    if ('refused' in result) throw new LoginRefused(result.refused);
    return result.user;
  }
}
