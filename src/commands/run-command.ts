// The frame every subcommand runs in: context, lock, errors with a next step, exit code, --json.
import type { CommandOutcome, Context, GlobalOptions } from '../core/context.js';
import { createContext } from '../core/context.js';
import { classify, stackOf } from '../core/errors.js';
import { acquireRunLock } from '../core/lock.js';
import { StepFailed } from '../core/run-steps.js';
import { enableProfile, profileText, timed } from '../core/profile.js';

/** How long a second run waits for the first; CRIO_SIGPOC_LOCK_WAIT (seconds) overrides two minutes. */
const lockWaitMs = (): number => 1000 * (Number(process.env.CRIO_SIGPOC_LOCK_WAIT) || 120);


export async function runCommand(
  name: string,
  opts: GlobalOptions,
  body: (ctx: Context) => Promise<CommandOutcome>,
  { lock = !opts.dryRun }: { lock?: boolean } = {},
): Promise<number> {
  // The time Node and the imports took before the command began.
  const startupMs = performance.now();
  if (opts.profile) enableProfile();
  const ctx = createContext(opts);
  let release: (() => Promise<void>) | undefined;
  try {
    if (lock) release = await timed('run lock (flock)', () => acquireRunLock(ctx.stateDir, lockWaitMs()));
    const outcome = await body(ctx);
    if (opts.json) process.stdout.write(JSON.stringify({ command: name, ok: outcome.exitCode === 0, exitCode: outcome.exitCode, ...(outcome.json as object) }, null, 2) + '\n');
    return outcome.exitCode;
  } catch (e) {
    const err = classify(e);
    const { exitCode: code, message, next } = err;
    const stack = stackOf(e instanceof StepFailed ? e.why : err);
    if (opts.json) {
      const steps = e instanceof StepFailed ? e.reports : undefined;
      process.stdout.write(JSON.stringify({ command: name, ok: false, exitCode: code, error: { message, next }, steps }, null, 2) + '\n');
    } else {
      process.stderr.write(`\ncrio-sigpoc ${name}: ${message}\n`);
      if (next) process.stderr.write(`next: ${next}\n`);
      if (stack && opts.verbose) process.stderr.write(stack + '\n');
    }
    return code;
  } finally {
    await release?.();
    if (opts.profile) process.stderr.write(profileText(startupMs));
  }
}
