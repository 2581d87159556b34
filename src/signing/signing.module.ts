import { Module } from '@nestjs/common';
import { SigningKeysService } from './signing-keys.service.js';

/** The appliance's signing key, for every feature that signs (audit checkpoints, offline policies). */
@Module({ providers: [SigningKeysService], exports: [SigningKeysService] })
export class SigningModule {}
