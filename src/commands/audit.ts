import { promises as fs } from 'node:fs';
import type { GlobalOptions } from '../core/context.js';
import { EXIT, UsageError } from '../core/errors.js';
import { requireCrio } from '../services/steps.js';
import { colourWanted } from '../ui/colour.js';
import { createCounter } from '../ui/counter.js';
import { audit, auditSummary } from '../verify/own/audit.js';
import { candidatePolicy } from '../verify/own/candidate.js';
import { admissionJunit, admissionTable } from '../verify/own/report.js';
import { runCommand } from './run-command.js';

export interface AuditOptions extends GlobalOptions {
  policy?: string;
  allNodes?: boolean;
  junit?: string;
  concurrency?: string;
}

export default (opts: AuditOptions) =>
  runCommand('audit', opts, async (ctx) => {
    const candidate = await candidatePolicy(ctx, { policy: opts.policy, images: [] });
    const concurrency = Number(opts.concurrency ?? 4);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
      throw new UsageError(`--concurrency ${opts.concurrency} is not a whole number from 1 to 32`, 'crio-sigpoc audit --concurrency 4');
    }
    await requireCrio(ctx);
    const counter = await createCounter({ json: opts.json, what: 'asking CRI-O' });
    const result = await audit(ctx, { candidate, cluster: Boolean(opts.allNodes), concurrency, onDone: (row, n, total) => counter.done(`${row.image} ${row.verdict}`, n, total) }).finally(() => counter.stop());
    const users = (image: string): string => result.workloads.filter((w) => w.image === image).map((w) => `${w.namespace || '(no namespace)'}/${w.workload}/${w.container}`).join('\n');
    if (opts.junit) await fs.writeFile(opts.junit, await admissionJunit(result.images, 'crio-sigpoc audit', (r) => `${users(r.image).split('\n').join(', ')}: ${r.image}`));
    if (!opts.json) {
      const rows = result.images.filter((r) => r.verdict !== 'admitted');
      if (rows.length) process.stdout.write('Would break if the policy were enforced:\n' + (await admissionTable(rows, { colour: colourWanted(), width: process.stdout.columns, label: (r) => `${users(r.image)}\n${r.image}` })));
      process.stdout.write(`audit: ${auditSummary(result)}\n`);
    }
    return { exitCode: result.images.some((r) => r.verdict === 'refused') ? EXIT.verdict : result.wouldBreak.length ? EXIT.environment : EXIT.ok, json: { policy: result.policy, workloads: result.workloads, images: result.images, wouldBreak: result.wouldBreak, summary: auditSummary(result) } };
  });
