import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createEmptyDatabase, embeddedStartParams } from './embedded-memory.js';

const settings = { sharedBuffersMb: 24, workMemMb: 3, maintenanceWorkMemMb: 12, wasmTierUp: false };
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-embedded-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the embedded database's memory", () => {
  it("starts PGlite with PGlite's own parameters and the configured sizes", () => {
    const params = embeddedStartParams(settings);
    expect(params.slice(0, 2)).toEqual(['--single', '-F']);
    expect(params.join(' ')).toContain('-c shared_buffers=24MB -c work_mem=3MB -c maintenance_work_mem=12MB');
  });

  it('says which folder initdb could not create, why, and what to do', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, '');
    const failure = createEmptyDatabase(join(file, 'pgdata'), settings);
    await expect(failure).rejects.toThrow(
      new RegExp(`Could not create the embedded database in ${file}/pgdata: ENOTDIR.*GATEHOUSE_DATA_DIR is a folder`),
    );
    await expect(failure).rejects.not.toThrow(/at Object\.mkdirSync/); // the reason, not the child's stack
  });
});
