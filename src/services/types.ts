// Long-running programs the proof needs (CRI-O, dockerd, the registry), under systemd where PID 1
// is systemd, otherwise started and supervised by the tool itself (pid file, log file, readiness).
import type { Context } from '../core/context.js';

export type ServiceMode = 'systemd' | 'supervised';

export interface ServiceSpec {
  /** Short name: 'crio', 'dockerd', 'registry'. */
  name: string;
  /** systemd unit that runs it when PID 1 is systemd. */
  unit: string;
  /** The program and argv the supervisor runs (no shell). */
  argv: string[];
  /** Resolves true when the service answers (socket, HTTP, CLI ping). */
  ready(ctx: Context): Promise<boolean>;
  /** How long start may take before it counts as failed. */
  readyTimeoutMs?: number;
}

export interface ServiceState {
  name: string;
  mode: ServiceMode;
  running: boolean;
  ready: boolean;
  pid?: number;
  logFile?: string;
  detail: string;
}

export interface ServiceManager {
  mode: ServiceMode;
  state(ctx: Context, spec: ServiceSpec): Promise<ServiceState>;
  /** Starts (or enables and starts) and waits until ready; throws with the log tail otherwise. */
  start(ctx: Context, spec: ServiceSpec): Promise<void>;
  stop(ctx: Context, spec: ServiceSpec): Promise<void>;
  /** Makes a running service re-read its configuration (CRI-O: SIGHUP reloads registries.conf). */
  reload(ctx: Context, spec: ServiceSpec): Promise<void>;
  restart(ctx: Context, spec: ServiceSpec): Promise<void>;
  /** The last lines of the service's log (journal or log file). */
  logs(ctx: Context, spec: ServiceSpec, lines: number): Promise<string>;
  /** Where the service's log ends now, so that a later read takes only what comes after. */
  logMark(ctx: Context, spec: ServiceSpec): Promise<LogMark>;
  /** What the log gained since the mark (at most the last 4 MiB of it). */
  logsSince(ctx: Context, spec: ServiceSpec, mark: LogMark): Promise<string>;
}

/** A point in a service's log: its time, and for a log file its size then. */
export interface LogMark {
  time: Date;
  offset?: number;
}
