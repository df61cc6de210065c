// What verify and audit print: one row per image with CRI-O's answer, as a table, and as JUnit
// (an image CRI-O refuses is a failed testcase, so a pipeline can gate on it).
import { loadChalk } from '../../ui/colour.js';
import { junitReport } from '../junit.js';
import { wrap } from '../table.js';
import type { Verdict } from '../verdict.js';
import type { AdmissionRow } from './verify.js';

/** The table's modules load while CRI-O pulls (the process only waits then), not after the pulls. */
export function preloadTable(colour: boolean): void {
  Promise.all([import('cli-table3'), loadChalk(colour)]).catch(() => {});
}

export async function admissionTable(rows: AdmissionRow[], opts: { colour: boolean; width?: number; label?: (r: AdmissionRow) => string }): Promise<string> {
  const [{ default: Table }, c] = await Promise.all([import('cli-table3'), loadChalk(opts.colour)]);
  const label = opts.label ?? ((r: AdmissionRow) => r.image);
  const cells = rows.map((r) => [label(r), r.digest ? `${r.digest.slice(0, 19)}…` : '—', r.verdict]);
  const head = ['Image', 'Digest', 'Verdict', 'Reason (policy CRI-O used, deciding scope, time)'];
  const fixed = [0, 1, 2].map((i) => Math.max(head[i].length, ...cells.flatMap((r) => r[i].split('\n').map((l) => l.length))) + 2);
  const reasonWidth = Math.max(30, (opts.width ?? 120) - fixed.reduce((a, b) => a + b, 0) - head.length - 1);
  const table = new Table({ head: head.map((h) => c.bold(h)), colWidths: [...fixed, reasonWidth], style: { head: [], border: [] } });
  rows.forEach((r, i) => {
    const verdict = r.verdict === 'admitted' ? c.green(r.verdict) : r.verdict === 'refused' ? c.red.bold(r.verdict) : c.yellow(r.verdict);
    const evidence = `policy: ${r.policyPath ?? 'not in the log'} · scope: ${r.scope} · ${r.durationMs} ms`;
    table.push([cells[i][0], cells[i][1], verdict, `${wrap(r.reason, reasonWidth - 2)}\n${c.dim(wrap(evidence, reasonWidth - 2))}`]);
  });
  return table.toString() + '\n';
}

export const admissionSummary = (rows: AdmissionRow[]): { admitted: number; refused: number; errors: number } => ({
  admitted: rows.filter((r) => r.verdict === 'admitted').length,
  refused: rows.filter((r) => r.verdict === 'refused').length,
  errors: rows.filter((r) => r.verdict === 'error').length,
});

/** Each image a testcase that passes when CRI-O admits it. */
export function admissionJunit(rows: AdmissionRow[], suite: string, name = (r: AdmissionRow) => r.image): Promise<string> {
  const verdicts: Verdict[] = rows.map((r) => ({
    name: name(r),
    image: r.image,
    expected: 'accepted',
    actual: r.verdict === 'admitted' ? 'accepted' : r.verdict === 'refused' ? 'rejected' : 'error',
    reason: r.reason,
    policyPath: r.policyPath,
    durationMs: r.durationMs,
    pass: r.verdict === 'admitted',
  }));
  return junitReport(verdicts, suite);
}
