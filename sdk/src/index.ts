export { GatehouseAgent, KNOWN_OBLIGATIONS, type AgentOptions, type AgentRequest } from './agent.js';
export { GatehouseError, GatehouseUnreachable, type AttemptFailure, type TransportOptions } from './transport.js';
export { OfflinePolicyRefused, verifyOfflinePolicy, type VerifiedOfflinePolicy } from './offline.js';
export type * from './api-types.js';
