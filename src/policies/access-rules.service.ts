import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROLES, type Role } from '../auth/roles.js';

const accessEntrySchema = z.strictObject({
  group: z.string().min(1).max(1024),
  role: z.enum(ROLES),
  devices: z.array(z.string().min(1).max(200)).min(1).optional(),
});

export interface AccessEntry {
  group: string;
  role: Role;
  devices: '*' | string[];
  source: string;
}

/** Lists the YAML files of a policy folder, recursively, in a stable order. */
export function listPolicyFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'tests') walk(path);
      } else if (/\.ya?ml$/.test(name)) out.push(path);
    }
  };
  walk(dir);
  return out;
}

/**
 * The `access` key of the policy files: which groups hold which staff roles.
 * (The full policy loader takes this over; until then only `access` is read here.)
 */
@Injectable()
export class AccessRulesService {
  private readonly logger = new Logger('AccessRules');
  private entries: AccessEntry[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.reload();
  }

  reload(): void {
    const dir = this.config.POLICIES_DIR;
    let files: string[];
    try {
      files = listPolicyFiles(dir);
    } catch {
      this.logger.warn(`Policy folder ${dir} cannot be read: only the built-in administrators group has a role`);
      this.entries = [];
      return;
    }
    const entries: AccessEntry[] = [];
    for (const file of files) {
      const doc = parseDocument(readFileSync(file, 'utf8'));
      const access = (doc.toJS() as Record<string, unknown> | null)?.access;
      if (access === undefined) continue;
      const parsed = z.array(accessEntrySchema).safeParse(access);
      if (!parsed.success) {
        this.logger.error(`${relative(process.cwd(), file)}: invalid access entries: ${parsed.error.message}`);
        continue;
      }
      for (const e of parsed.data) {
        entries.push({ group: e.group, role: e.role, devices: e.devices ?? '*', source: relative(dir, file) });
      }
    }
    this.entries = entries;
  }

  all(): readonly AccessEntry[] {
    return this.entries;
  }
}
