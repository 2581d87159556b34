/** The HA drill's sizes and phases (the CI test passes a tiny set; `npm run drill:ha` reads the command line). */
export interface DrillOptions {
  /** Simulated devices, each asking one request after another. */
  agents: number;
  /** Approvers answering the pending requests through the staff API. */
  approvers: number;
  /** How long the fleet asks, kill and outage included. */
  loadMs: number;
  /** How long the killed replica stays down before it is started again. */
  downMs: number;
  /** How long every connection to PostgreSQL is refused. */
  outageMs: number;
  /** Pending requests nobody answers: they are made due at the kill and must expire once each. */
  unattended: number;
  /** An agent's pause between two requests. */
  thinkMs: number;
  /** An approver answers a request once it is this old (long polls are open meanwhile). */
  approveAfterMs: number;
  /** Long-poll wait the agents ask for (seconds). */
  waitSeconds: number;
}

export const DEFAULT_OPTIONS: DrillOptions = {
  agents: 24,
  approvers: 2,
  loadMs: 40_000,
  downMs: 5_000,
  outageMs: 4_000,
  unattended: 8,
  thinkMs: 50,
  approveAfterMs: 3_000,
  waitSeconds: 10,
};

/** When each fault starts, as a share of the load's length. */
export const KILL_AT = 0.2;
export const OUTAGE_AT = 0.6;
