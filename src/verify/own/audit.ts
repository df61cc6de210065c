// `audit`: warn mode at the runtime. Which images that run now would CRI-O refuse if the candidate
// policy were enforced? Each distinct image is asked once, by the digest that runs.
import type { Context } from '../../core/context.js';
import type { Candidate } from './candidate.js';
import type { AdmissionRow } from './verify.js';
import { askAdmission } from './verify.js';
import type { Workload } from './workloads.js';
import { clusterWorkloads, nodeWorkloads } from './workloads.js';

export interface AuditFinding extends Workload {
  verdict: AdmissionRow['verdict'];
  reason: string;
}

export interface AuditResult {
  policy: string;
  workloads: Workload[];
  images: AdmissionRow[];
  /** Containers whose image CRI-O would refuse, or could not decide for. */
  wouldBreak: AuditFinding[];
}

export async function audit(ctx: Context, opts: { candidate?: Candidate; cluster: boolean; concurrency?: number; onDone?: (row: AdmissionRow, done: number, total: number) => void }): Promise<AuditResult> {
  const { workloads, stored } = opts.cluster ? { workloads: await clusterWorkloads(ctx), stored: undefined } : await nodeWorkloads(ctx);
  const images = [...new Set(workloads.map((w) => w.image))];
  let done = 0;
  const run = await askAdmission(ctx, images, { candidate: opts.candidate, concurrency: opts.concurrency, stored, onDone: (row) => opts.onDone?.(row, ++done, images.length) });
  const byImage = new Map(run.rows.map((r) => [r.image, r]));
  const wouldBreak = workloads
    .map((w) => ({ ...w, verdict: byImage.get(w.image)!.verdict, reason: byImage.get(w.image)!.reason }))
    .filter((f) => f.verdict !== 'admitted')
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.workload.localeCompare(b.workload));
  return { policy: run.policy, workloads, images: run.rows, wouldBreak };
}

/** "audit: 4 images in 3 workloads; 1 image would be refused: 1 workload would break". */
export function auditSummary(r: AuditResult): string {
  const workloads = (list: Workload[]): number => new Set(list.map((w) => `${w.namespace}/${w.workload}`)).size;
  const refused = r.images.filter((i) => i.verdict === 'refused').length;
  const undecided = r.images.filter((i) => i.verdict === 'error').length;
  return `${r.images.length} image${r.images.length === 1 ? '' : 's'} in ${workloads(r.workloads)} workload${workloads(r.workloads) === 1 ? '' : 's'}; ${refused} would be refused${undecided ? `, ${undecided} not decided` : ''}: ${workloads(r.wouldBreak)} workload${workloads(r.wouldBreak) === 1 ? '' : 's'} would break (policy: ${r.policy})`;
}
