import './resolve-ts-extensions.ts';
import { rmSync } from 'node:fs';
import { readSambaInfo, stopSambaDc } from './samba-dc.js';
import { adminQuery } from './test-db.js';

export default async function globalTeardown(): Promise<void> {
  const info = process.env.GATEHOUSE_TEST_SAMBA_INFO;
  if (info) {
    await stopSambaDc(await readSambaInfo(info));
    rmSync(info, { force: true });
  }
  const template = process.env.GATEHOUSE_TEST_TEMPLATE;
  if (template) {
    const leftovers = await adminQuery<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`,
      [`gatehouse_test_${process.pid}_%`, template],
    );
    for (const { datname } of leftovers) await adminQuery(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  }
}
