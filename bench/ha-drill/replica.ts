/** A Gatehouse replica the drill can kill and start again on the same port. */
export interface ReplicaProcess {
  /** SIGKILL: no shutdown code runs. Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts Gatehouse with `env` (PORT and HOST included) and resolves once it listens. The
 * `npm run drill:ha` command runs the compiled server, the CI test runs the sources.
 */
export type LaunchReplica = (env: Record<string, string>) => Promise<ReplicaProcess>;

/** One of the three replicas: its fixed address, and the process now serving it (none while killed). */
export class Replica {
  process: ReplicaProcess | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly launch: LaunchReplica,
    private readonly env: Record<string, string>,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = await this.launch({ ...this.env, HOST: '127.0.0.1', PORT: String(this.port) });
  }

  async kill9(): Promise<void> {
    const p = this.process;
    this.process = undefined;
    await p?.kill9();
  }

  async stop(): Promise<void> {
    const p = this.process;
    this.process = undefined;
    await p?.stop();
  }
}
