import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Rules for the offline policy and obligations tests: three `offline: true` allows for CT
 * scanners (a time window in Paris, a path and a remote-user group, a device state), one for
 * injectors only, and rules that are not offline (a session allow, attended allow and ask).
 * No other rule names the offline actions, so for them the server's decision is the offline one.
 */
export const OFFLINE_RULES = `rules:
  - id: logs-offline
    effect: allow
    actions: [log-upload]
    devices: [ct-scanners]
    remoteUsers: { enterprises: [acme-medical] }
    when:
      timezone: Europe/Paris
      windows:
        - { days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00" }
    offline: true
  - id: downloads-offline
    effect: allow
    actions: [file-download]
    devices: [ct-scanners]
    remoteUsers: { groups: [tier2] }
    target: { paths: ["/var/log/**"] }
    offline: true
  - id: restarts-idle-offline
    effect: allow
    actions: [restart]
    devices: ["*"]
    when: { deviceState: { inUse: false } }
    offline: true
  - id: injector-logs-offline
    effect: allow
    actions: [log-upload]
    devices: [injectors]
    offline: true
  - id: sessions-online-only
    effect: allow
    actions: [remote-session]
    devices: [ct-scanners]
  - id: attended-config
    effect: allow
    actions: [config-change]
    devices: [ct-scanners]
    attended: true
  - id: attended-installs
    effect: ask
    actions: [software-install]
    devices: [ct-scanners]
    approval: { approvers: [Biomed-Approvers], required: 1, timeoutMinutes: 60 }
    attended: true
`;

/** A policy folder with the example set's device groups and access, and OFFLINE_RULES. */
export function offlinePolicyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-offline-'));
  for (const file of ['access.yaml', 'device-groups.yaml']) cpSync(join('policies', file), join(dir, file));
  writeFileSync(join(dir, 'defaults.yaml'), 'defaults:\n  effect: deny\n');
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'offline.yaml'), OFFLINE_RULES);
  return dir;
}
