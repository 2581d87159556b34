import { Module } from '@nestjs/common';
import { BackupStreamService } from './backup-stream.service.js';

/** Backups taken by a running server on the embedded database (through its admin socket). */
@Module({ providers: [BackupStreamService], exports: [BackupStreamService] })
export class BackupModule {}
