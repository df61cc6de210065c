import type { Context } from './context.js';
import { classify, EnvironmentError, SigpocError } from './errors.js';
import type { Action } from './plan.js';
import type { Status, Step } from './step.js';
import { drift } from './step.js';
import { createProgress } from '../ui/progress.js';
import { timed } from './profile.js';

export interface StepReport {
  id: string;
  title: string;
  before: Status;
  after?: Status;
  changed: boolean;
  actions: Action[];
  durationMs: number;
}

export class StepFailed extends SigpocError {
  constructor(
    readonly step: Step,
    cause: unknown,
    readonly reports: StepReport[],
  ) {
    const why = classify(cause);
    super(`${step.title} failed: ${why.message}`, why.exitCode, why.next);
    this.why = why;
  }
  /** The cause as the user is told of it (a bug keeps its stack). */
  readonly why: SigpocError;
}

/** Check each step; apply what is not done; check again and fail loudly if it did not converge. */
export async function runSteps(ctx: Context, steps: Step[]): Promise<StepReport[]> {
  const progress = await createProgress({ json: ctx.opts.json });
  const reports: StepReport[] = [];
  // Checks are read-only, so on a warm machine they are all asked at once. Their answers hold
  // until the first step that has to change something; every step after it is checked again.
  const early = await timed(`check all ${steps.length} steps at once`, () => Promise.all(steps.map((s) => s.check(ctx).catch(() => undefined))));
  let changedSoFar = false;
  // Step id → the titles of the steps that changed what it must read again.
  const notified = new Map<string, string[]>();
  for (const [i, step] of steps.entries()) {
    const t0 = performance.now();
    ctx.recorder.step = step.id;
    progress.start(step.title);
    try {
      const by = notified.get(step.id);
      const checked = !changedSoFar && early[i] ? early[i] : await timed(`check ${step.id}`, () => step.check(ctx));
      const before: Status = by && checked.state === 'done' ? drift(`to read again what changed: ${by.join(', ')}`) : checked;
      if (before.state !== 'done') changedSoFar = true;
      if (before.state === 'done') {
        reports.push({ id: step.id, title: step.title, before, changed: false, actions: [], durationMs: performance.now() - t0 });
        progress.succeed(`${step.title}: already done${before.detail ? ` (${before.detail})` : ''}`);
        continue;
      }
      await timed(`apply ${step.id}`, () => step.apply(ctx));
      notified.delete(step.id);
      for (const id of step.notifies ?? []) notified.set(id, [...(notified.get(id) ?? []), step.title]);
      let after: Status | undefined;
      if (!ctx.opts.dryRun) {
        after = await timed(`check ${step.id} again`, () => step.check(ctx));
        if (after.state !== 'done') throw new EnvironmentError(`did not converge: ${after.why}`, 'run it again with --verbose to see every command and its output');
      }
      const actions = ctx.recorder.forStep(step.id);
      reports.push({ id: step.id, title: step.title, before, after, changed: true, actions, durationMs: performance.now() - t0 });
      const verb = ctx.opts.dryRun ? 'would change' : 'changed';
      progress.succeed(`${step.title}: ${verb} (${before.why})`);
    } catch (e) {
      progress.fail(`${step.title}`);
      throw new StepFailed(step, e, reports);
    }
  }
  return reports;
}
