// The one fake Runner of the unit tests: it records every command and answers what a test scripts.
// It stands in only for programs whose real behaviour is tested elsewhere (e2e) or that need the
// internet; everything unscripted fails, as a probe on a bare VM would.
import type { Command, RunResult, Runner } from '../../src/core/command.js';

type Answer = Partial<RunResult> | undefined;

export interface Scripted {
  argv: string[];
  result: Partial<RunResult>;
}

/** An answer function from argv prefixes: the first matching entry answers. */
export const scripted =
  (script: Scripted[]) =>
  (cmd: Command): Answer => {
    const argv = [cmd.file, ...cmd.args];
    return script.find((s) => s.argv.every((a, i) => argv[i] === a))?.result;
  };

export class FakeRunner implements Runner {
  readonly calls: Command[] = [];
  readonly started: Command[] = [];
  constructor(
    private readonly answer: (cmd: Command) => Answer | Promise<Answer> = () => undefined,
    private readonly onStart: (cmd: Command) => void = () => {},
  ) {}

  async run(cmd: Command): Promise<RunResult> {
    this.calls.push(cmd);
    const a = await this.answer(cmd);
    return { exitCode: 1, stdout: '', stderr: `${cmd.file}: not scripted in this test`, timedOut: false, ...a };
  }

  async spawnDetached(cmd: Command): Promise<number> {
    this.started.push(cmd);
    this.onStart(cmd);
    return 2_147_000_000; // a pid no process has
  }

  argvs(): string[][] {
    return this.calls.map((c) => [c.file, ...c.args]);
  }
}
