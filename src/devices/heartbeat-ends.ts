import type { DeviceEntity } from './device.entity.js';

/** One access the hospital withdrew, as a heartbeat answer lists it (agent-api.md 1.1 `end`). */
export interface EndNotice {
  requestId: string;
  reason: string;
}

/**
 * What a heartbeat asks of "End now" (src/access/, which depends on this module and so
 * plugs itself in here rather than being imported).
 */
export interface HeartbeatEnds {
  endsFor(device: DeviceEntity, now: Date): Promise<EndNotice[]>;
}
