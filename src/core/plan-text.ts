import type { StepReport } from './run-steps.js';

/** The ordered plan or summary of a run of steps, as people read it. */
export function planText(reports: StepReport[], dryRun: boolean): string {
  const lines: string[] = [];
  lines.push(dryRun ? 'Plan (dry run: nothing was changed):' : 'Summary:');
  reports.forEach((r, i) => {
    const state = r.before.state === 'done' ? `already done${r.before.detail ? ` (${r.before.detail})` : ''}` : `${dryRun ? 'would change' : 'changed'}: ${r.before.why}`;
    lines.push(`  ${i + 1}. ${r.title}: ${state}`);
    for (const a of r.actions) lines.push(`       ${a.display}`);
  });
  if (!dryRun && reports.every((r) => !r.changed)) lines.push('Nothing to do: every step was already done.');
  return lines.join('\n') + '\n';
}
