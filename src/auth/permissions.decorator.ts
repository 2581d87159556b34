import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiSecurity } from '@nestjs/swagger';
import { ApiErrors, ApiStandardErrors } from '../openapi/api-responses.js';
import { SECURITY_SCHEME } from '../openapi/openapi-document.js';
import type { Action, Subject } from './abilities.js';

export const ACCESS_METADATA = 'gatehouse:access';

/** Who may call a route. The global guard denies any route that has none. */
export type RouteAccess =
  | { kind: 'public' }
  | { kind: 'signed-in' }
  | { kind: 'permission'; action: Action; subject: Subject }
  | { kind: 'device' }
  | { kind: 'enrollment' }
  /** Prometheus, with `Authorization: Bearer <METRICS_TOKEN>` (compared by the metrics controller). */
  | { kind: 'metrics' }
  /** A console page or form: the console's session cookie, and `action` on `subject` when given. */
  | { kind: 'console'; action?: Action; subject?: Subject };

export function describeAccess(access: RouteAccess): string {
  switch (access.kind) {
    case 'public':
      return 'public';
    case 'signed-in':
      return 'signed-in';
    case 'permission':
      return `${access.action} ${access.subject}`;
    case 'device':
      return 'device credential';
    case 'enrollment':
      return 'enrollment token';
    case 'metrics':
      return 'metrics token';
    case 'console':
      return access.action ? `console: ${access.action} ${access.subject}` : 'console: signed-in';
  }
}

/** Exported for the console's page decorator, which adds its own OpenAPI exclusion. */
export function access(
  value: RouteAccess,
  ...docs: (ClassDecorator & MethodDecorator)[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ACCESS_METADATA, value),
    ApiExtension('x-gatehouse-access', describeAccess(value)),
    ApiStandardErrors(),
    ...docs,
  );
}

/** Anyone may call this route, without credentials (`security: []`: see openapi-document.ts). */
export const Public = () => access({ kind: 'public' });

/** Any signed-in member of staff, whatever their roles. */
export const SignedIn = () =>
  access({ kind: 'signed-in' }, ApiSecurity(SECURITY_SCHEME.staff), ApiErrors([401, 'Not signed in']));

/** A signed-in member of staff whose abilities allow `action` on `subject`. */
export const RequirePermission = (action: Action, subject: Subject) =>
  access(
    { kind: 'permission', action, subject },
    ApiSecurity(SECURITY_SCHEME.staff),
    ApiErrors([401, 'Not signed in'], [403, `Requires the permission to ${action} ${subject}`]),
  );

/** A device agent, with `Authorization: Bearer <device credential>`. */
export const DeviceAuth = () =>
  access(
    { kind: 'device' },
    ApiSecurity(SECURITY_SCHEME.device),
    ApiErrors([401, 'Unknown or revoked device credential']),
  );

/** A device agent enrolling, with `Authorization: Bearer <enrollment token>` (checked by the enrollment itself). */
export const EnrollmentAuth = () =>
  access({ kind: 'enrollment' }, ApiSecurity(SECURITY_SCHEME.enrollment), ApiErrors([401, 'Invalid enrollment token']));

/** Prometheus scraping, with `Authorization: Bearer <METRICS_TOKEN>` (checked by the metrics controller). */
export const MetricsAuth = () =>
  access({ kind: 'metrics' }, ApiSecurity(SECURITY_SCHEME.metrics), ApiErrors([401, 'Missing or wrong metrics token']));
