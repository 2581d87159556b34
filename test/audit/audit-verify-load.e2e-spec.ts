import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decisionBody, enrollDevice } from '../support/agent.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

const RECORDS = 200_000;

describe('verifying a large chain while agents ask', () => {
  let t: TestApp;
  let token: string;
  let device: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { AUDIT_CHECKPOINT_MINUTES: '0', DEVICE_RATE_BURST: '10000' } });
    token = await login(t.baseUrl);
    device = await enrollDevice(t.baseUrl, token, { deviceId: 'ct-load', model: 'SOMATOM X.cite' });
    // 200k records in the database's own append function, 10k a statement (the same hashes the app computes).
    for (let done = 0; done < RECORDS; done += 10_000) {
      await t.database.dataSource.query(
        `SELECT count(*) FROM audit_append(ARRAY(SELECT '["load.test","system",null,null,null,null,null,[],null,[],null,null,{"i":' || g || '}]'
           FROM generate_series($1::int, $2::int) g), $3)`,
        [done + 1, done + 10_000, new Date().toISOString()],
      );
    }
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });

  /** Milliseconds of each of `n` decisions asked one after another. */
  async function decisionTimes(n: number): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      const res = await api(t.baseUrl, 'POST', '/api/v1/agent/decisions', { token: device, body: decisionBody() });
      times.push(performance.now() - start);
      expect(res.status).toBe(200);
    }
    return times;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

  it('keeps answering decisions promptly; callers share one run; the next run is incremental', async () => {
    const quiet = median(await decisionTimes(40));

    const first = api(t.baseUrl, 'GET', '/api/v1/audit/verify', { token });
    // Wait for the run to be under way (its progress is visible), then measure during it.
    let status = await api(t.baseUrl, 'GET', '/api/v1/audit/verify/status', { token });
    while (!status.body.running) status = await api(t.baseUrl, 'GET', '/api/v1/audit/verify/status', { token });
    const second = api(t.baseUrl, 'GET', '/api/v1/audit/verify', { token });
    const during: number[] = [];
    while ((await api(t.baseUrl, 'GET', '/api/v1/audit/verify/status', { token })).body.running) {
      during.push(...(await decisionTimes(5)));
    }
    const [a, b] = [(await first).body, (await second).body];
    expect(a).toMatchObject({ ok: true, run: { mode: 'full', fromSeq: 0 } });
    expect(a.records).toBeGreaterThan(RECORDS);
    expect(b.run).toEqual(a.run); // the second caller shared the first one's run

    // Decisions during the run: the median within 40x of the quiet one. With the hashing on the main
    // thread it was 140x (6 ms -> 853 ms); in the worker it is 1-4x, the spread being the two cores
    // shared by the worker, PostgreSQL and the other test files (3.95x and 16x seen at load 10-20).
    expect(during.length).toBeGreaterThanOrEqual(10);
    const ratio = median(during) / quiet;
    process.stdout.write(
      `decision p50 quiet ${quiet.toFixed(1)} ms, during verify ${median(during).toFixed(1)} ms (x${ratio.toFixed(2)}), ${during.length} decisions, ${a.run.checked} records\n`,
    );
    expect(ratio).toBeLessThan(40);

    const next = (await api(t.baseUrl, 'GET', '/api/v1/audit/verify', { token })).body;
    expect(next).toMatchObject({ ok: true, run: { mode: 'incremental', fromSeq: a.head.seq } });
    expect(next.run.checked).toBeLessThan(1000);
    const full = (await api(t.baseUrl, 'GET', '/api/v1/audit/verify?full=true', { token })).body;
    expect(full.run).toMatchObject({ mode: 'full', fromSeq: 0 });
    expect(full.run.checked).toBeGreaterThan(RECORDS);
  }, 300_000);
});
