import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ConsoleModule } from '../../src/console/console.module.js';
import { api, login, startTestApp, type TestApp } from '../support/test-app.js';

/** Every POST route of the console's controllers, read from Nest's own metadata, params filled in. */
function consolePostRoutes(): string[] {
  const controllers = Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, ConsoleModule) as (new (
    ...args: never[]
  ) => unknown)[];
  const routes: string[] = [];
  for (const controller of controllers) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) !== RequestMethod.POST)
        continue;
      const path = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      const full = `/${[base, path].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/');
      routes.push(full.replace(/:[A-Za-z]+/g, 'a1b2c3'));
    }
  }
  return routes;
}

/**
 * "CSRF protection on every state-changing form" (issue 12), route by route: a form sent from
 * another site, and one without the session's token, are refused (403, audited) on every POST
 * the console has, so that a controller added without ConsoleController() fails here.
 */
describe('console: CSRF on every state-changing route', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await login(app.baseUrl);
  });
  afterAll(async () => app?.close());

  it('refuses each POST from another origin, and each signed-in POST without the token', async () => {
    const routes = consolePostRoutes();
    expect(routes).toEqual(expect.arrayContaining(['/sign-in', '/sign-out', '/approvals/a1b2c3/approve', '/setup']));
    expect(routes.length).toBeGreaterThanOrEqual(20);
    const page = await (
      await fetch(`${app.baseUrl}/grants`, { headers: { cookie: `gatehouse_session=${admin}` } })
    ).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1];
    const post = (path: string, origin: string, fields: Record<string, string>) =>
      fetch(`${app.baseUrl}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie: `gatehouse_session=${admin}`,
          origin,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams(fields).toString(),
      });

    const notRefused: string[] = [];
    for (const route of routes) {
      // The real token, from another site.
      const foreign = await post(route, 'https://evil.example', { _csrf: csrf });
      if (foreign.status !== 403 || !(await foreign.text()).includes('CSRF')) notRefused.push(`${route} (origin)`);
      // From this site, without the token (sign-in and setup come before any session: origin only).
      if (route === '/sign-in' || route === '/setup') continue;
      const tokenless = await post(route, app.baseUrl, {});
      if (tokenless.status !== 403 || !(await tokenless.text()).includes('CSRF')) notRefused.push(`${route} (token)`);
    }
    expect(notRefused).toEqual([]);
    // Still signed in: none of the forged sign-outs went through.
    expect((await api(app.baseUrl, 'GET', '/api/v1/auth/me', { token: admin })).status).toBe(200);
    const audit = await api(app.baseUrl, 'GET', '/api/v1/audit?eventType=console.refused&limit=500', { token: admin });
    expect(audit.body.items).toHaveLength(routes.length * 2 - 2);
  });
});
