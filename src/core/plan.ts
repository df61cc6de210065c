import { createHash } from 'node:crypto';
import type { Command, RunResult, Runner } from './command.js';
import { describe } from './command.js';

/** One change that apply makes: what --dry-run prints and what --json reports. */
export type Action =
  | { kind: 'run'; step: string; argv: string[]; privileged: boolean; env: string[]; display: string }
  | { kind: 'start'; step: string; argv: string[]; privileged: boolean; log: string; display: string }
  | { kind: 'write'; step: string; path: string; mode: string; bytes: number; sha256: string; display: string }
  | { kind: 'remove'; step: string; path: string; display: string }
  | { kind: 'move'; step: string; from: string; to: string; display: string }
  | { kind: 'http'; step: string; method: string; url: string; display: string };

export class Recorder {
  readonly actions: Action[] = [];
  step = '';

  command(cmd: Command, kind: 'run' | 'start' = 'run', log = ''): void {
    const base = { step: this.step, argv: [cmd.file, ...cmd.args], privileged: Boolean(cmd.privileged) };
    if (kind === 'start') this.actions.push({ kind, ...base, log, display: `start ${describe(cmd)} >> ${log}` });
    else this.actions.push({ kind, ...base, env: Object.keys(cmd.env ?? {}), display: describe(cmd) });
  }

  write(path: string, content: string | Buffer, mode: number): void {
    const sha256 = createHash('sha256').update(content).digest('hex');
    const m = mode.toString(8).padStart(4, '0');
    this.actions.push({
      kind: 'write',
      step: this.step,
      path,
      mode: m,
      bytes: Buffer.byteLength(content),
      sha256,
      display: `write ${path} (mode ${m}, ${Buffer.byteLength(content)} bytes, sha256 ${sha256.slice(0, 12)})`,
    });
  }

  /** A write whose bytes exist only after an earlier action (a download, a build) has run. */
  pendingWrite(path: string, mode: number, source: string): void {
    const m = mode.toString(8).padStart(4, '0');
    this.actions.push({ kind: 'write', step: this.step, path, mode: m, bytes: 0, sha256: '', display: `write ${path} (mode ${m}, from ${source})` });
  }

  remove(path: string): void {
    this.actions.push({ kind: 'remove', step: this.step, path, display: `remove ${path}` });
  }

  /** A rename in the state directory (a key pair's directory during a rotation). */
  move(from: string, to: string): void {
    this.actions.push({ kind: 'move', step: this.step, from, to, display: `move ${from} to ${to}` });
  }

  /** A change made through a registry's HTTP API rather than a program. */
  http(method: string, url: string, what: string): void {
    this.actions.push({ kind: 'http', step: this.step, method, url, display: `${method} ${url} (${what})` });
  }

  forStep(step: string): Action[] {
    return this.actions.filter((a) => a.step === step);
  }
}

/** Under --dry-run: read-only commands run for real, every other one is only recorded. */
export class DryRunRunner implements Runner {
  constructor(
    private readonly real: Runner,
    private readonly recorder: Recorder,
  ) {}

  async run(cmd: Command): Promise<RunResult> {
    if (cmd.readOnly) return this.real.run(cmd);
    this.recorder.command(cmd);
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
  }

  async spawnDetached(cmd: Command, logFile: string): Promise<number> {
    this.recorder.command(cmd, 'start', logFile);
    return 0;
  }
}

/** Records every command that apply runs, for the summary and --json, and passes it on. */
export class RecordingRunner implements Runner {
  constructor(
    private readonly real: Runner,
    private readonly recorder: Recorder,
  ) {}

  run(cmd: Command): Promise<RunResult> {
    if (!cmd.readOnly) this.recorder.command(cmd);
    return this.real.run(cmd);
  }

  spawnDetached(cmd: Command, logFile: string): Promise<number> {
    this.recorder.command(cmd, 'start', logFile);
    return this.real.spawnDetached(cmd, logFile);
  }
}
