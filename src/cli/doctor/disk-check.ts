import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { AppConfig } from '../../config/config.schema.js';
import { failed, ok, skipped, warning, type CheckResult } from './check.js';

const TITLE = 'Disk space';
const MB = 1024 * 1024;
export const DISK_WARN_BYTES = 1024 * MB;
export const DISK_FAIL_BYTES = 100 * MB;

const size = (bytes: number) =>
  bytes >= 1024 * MB ? `${(bytes / 1024 / MB).toFixed(1)} GB` : `${Math.floor(bytes / MB)} MB`;

/** Free space where GATEHOUSE_DATA_DIR is (or will be): the embedded database and its run folder live there. */
export async function checkDisk(config: AppConfig): Promise<CheckResult> {
  const dir = resolve(config.GATEHOUSE_DATA_DIR);
  if (config.DATABASE_URL && !existsSync(dir)) {
    return skipped(
      TITLE,
      `GATEHOUSE_DATA_DIR (${dir}) does not exist: on PostgreSQL the data is in the database (watch its disk there)`,
    );
  }
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const fs = await statfs(existing);
  const free = fs.bavail * fs.bsize;
  const where = `GATEHOUSE_DATA_DIR (${dir})`;
  const fix = `free space on the file system of ${existing}, or move GATEHOUSE_DATA_DIR to a larger one (stop Gatehouse, move the folder, set the variable, start)`;
  if (free < DISK_FAIL_BYTES) {
    return failed(TITLE, `only ${size(free)} free for ${where}: writes (and so decisions) will fail soon`, fix);
  }
  if (free < DISK_WARN_BYTES) return warning(TITLE, `only ${size(free)} free for ${where}`, fix);
  return ok(TITLE, `${size(free)} free for ${where}`);
}
