/**
 * The agent API's request and answer types, taken from the types generated from Gatehouse's
 * OpenAPI document (src/generated, `npm run sdk:types`): the SDK and the server cannot drift.
 */
import type { components, paths } from './generated/gatehouse-api.js';

type JsonBody<T> = T extends { content: { 'application/json': infer B } } ? B : never;

export type EnrollRequest = JsonBody<paths['/api/v1/agent/enroll']['post']['requestBody']>;
export type EnrollAnswer = JsonBody<paths['/api/v1/agent/enroll']['post']['responses'][201]>;
export type DecideRequest = JsonBody<paths['/api/v1/agent/decisions']['post']['requestBody']>;
export type DecisionAnswer = JsonBody<paths['/api/v1/agent/decisions']['post']['responses'][200]>;
export type CompleteRequest = JsonBody<paths['/api/v1/agent/decisions/{requestId}/complete']['post']['requestBody']>;
export type HeartbeatRequest = JsonBody<paths['/api/v1/agent/heartbeat']['post']['requestBody']>;
export type HeartbeatAnswer = JsonBody<paths['/api/v1/agent/heartbeat']['post']['responses'][200]>;
export type EndItem = HeartbeatAnswer['end'][number];
export type OfflinePolicy = JsonBody<paths['/api/v1/agent/policy']['get']['responses'][200]>;
export type PublicKeys = JsonBody<paths['/api/v1/audit/public-key']['get']['responses'][200]>;
export type OfflineDecisionsRequest = JsonBody<paths['/api/v1/agent/offline-decisions']['post']['requestBody']>;
export type OfflineDecision = OfflineDecisionsRequest['decisions'][number];
/** What a device reports of itself (heartbeat), and what an offline decision was taken with. */
export type DeviceState = NonNullable<OfflineDecision['deviceState']>;
export type ErrorBody = components['schemas']['Error'];
