// A Runner for unit tests: records every command and answers from a script of argv prefixes.
// It stands in only for programs whose real behaviour is tested elsewhere (e2e) or that need the internet.
import type { Command, RunResult, Runner } from '../../src/exec/command.js';

export interface Scripted {
  argv: string[];
  result: Partial<RunResult>;
}

export class FakeRunner implements Runner {
  readonly calls: Command[] = [];
  constructor(private readonly script: Scripted[] = [], private readonly fallback: Partial<RunResult> = { exitCode: 1, stderr: 'not scripted' }) {}

  async run(cmd: Command): Promise<RunResult> {
    this.calls.push(cmd);
    const argv = [cmd.file, ...cmd.args];
    const hit = this.script.find((s) => s.argv.every((a, i) => argv[i] === a));
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...(hit ? hit.result : this.fallback) };
  }

  async spawnDetached(cmd: Command): Promise<number> {
    this.calls.push(cmd);
    return 4242;
  }

  argvs(): string[][] {
    return this.calls.map((c) => [c.file, ...c.args]);
  }
}
