import type { StepReport } from './run-steps.js';

const PLAN_HEADING = 'Plan (dry run: nothing was changed):';

/** The ordered plan or summary of a run of steps, as people read it. */
export function planText(reports: StepReport[], dryRun: boolean): string {
  const lines: string[] = [];
  lines.push(dryRun ? PLAN_HEADING : 'Summary:');
  reports.forEach((r, i) => {
    const state = r.before.state === 'done' ? `already done${r.before.detail ? ` (${r.before.detail})` : ''}` : `${dryRun ? 'would change' : 'changed'}: ${r.before.why}`;
    lines.push(`  ${i + 1}. ${r.title}: ${state}`);
    for (const a of r.actions) lines.push(`       ${a.display}`);
  });
  if (!dryRun && reports.every((r) => !r.changed)) lines.push('Nothing to do: every step was already done.');
  return lines.join('\n') + '\n';
}

/** The plan of a command that is not a chain of steps (verify, test-pods): what it would do, in order, then what follows. */
export function actionsPlanText(actions: string[], then: string[] = []): string {
  return [PLAN_HEADING, ...actions.map((a) => `  ${a}`), ...then.map((t) => `  then: ${t}`)].join('\n') + '\n';
}
