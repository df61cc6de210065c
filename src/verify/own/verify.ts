// `verify`: asks this node's CRI-O whether it admits each image, with the policy it enforces or a
// candidate tried in a scratch namespace. CRI-O decides; the tool only reads its answer, the
// policy file it names in its log, and which scope decided (the lookup `policy explain` uses).
import type { Context } from '../../core/context.js';
import { ok } from '../../core/command.js';
import { EXIT } from '../../core/errors.js';
import { registryAddress } from '../../core/settings.js';
import { runCrictl } from '../../crio/crictl.js';
import { podConfig } from '../../crio/pod-config.js';
import { explainImage, explainWith } from '../../policy/explain.js';
import { readRegistriesD } from '../../policy/registries-d.js';
import { normaliseImage, refIdentity } from '../../policy/scope.js';
import { manifestDigest } from '../../registry/client.js';
import { crioService, serviceManager } from '../../services/index.js';
import { policyPathsFromLog } from '../../crio/log-events.js';
import { classifyPull } from '../pull-verdict.js';
import type { Candidate } from './candidate.js';
import { withScratchNamespace } from './scratch-namespace.js';

export type Admission = 'admitted' | 'refused' | 'error';

export interface AdmissionRow {
  image: string;
  /** The manifest digest CRI-O pulled, or the one the name or the registry gives; undefined when unknown. */
  digest?: string;
  verdict: Admission;
  /** CRI-O's words (SignatureValidationFailed: … with the library's reason), or why it never decided. */
  reason: string;
  /** The policy file CRI-O applied, from its own log. */
  policyPath?: string;
  /** The scope that decided, as `policy explain` finds it in the policy CRI-O was given. */
  scope: string;
  durationMs: number;
}

export interface AdmissionRun {
  rows: AdmissionRow[];
  /** The candidate's origin, or the installed policy's path. */
  policy: string;
  /** The scratch namespace the candidate was tried in. */
  namespace?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

async function present(ctx: Context, image: string): Promise<boolean> {
  return ok(await runCrictl(ctx, ['inspecti', image], { timeoutMs: 20_000 }));
}

/** The repo digest CRI-O stored for the image's repository. */
async function storedDigest(ctx: Context, image: string, name: string): Promise<string | undefined> {
  const r = await runCrictl(ctx, ['inspecti', '-o', 'json', image], { timeoutMs: 20_000 });
  if (!ok(r)) return undefined;
  const digests: string[] = (JSON.parse(r.stdout) as { status?: { repoDigests?: string[] } }).status?.repoDigests ?? [];
  const mine = digests.find((d) => d.startsWith(`${name}@`)) ?? digests[0];
  const digest = mine?.slice(mine.indexOf('@') + 1);
  return digest && DIGEST.test(digest) ? digest : undefined;
}

/** Without a pull, the digest is known from the name, or from the local registry (plain HTTP, loopback). */
async function namedDigest(image: string): Promise<string | undefined> {
  const ref = normaliseImage(image);
  if (ref.digest) return ref.digest;
  if (ref.domain !== registryAddress || !ref.tag) return undefined;
  const d = await manifestDigest(ref.name, ref.tag).catch(() => undefined);
  return d && DIGEST.test(d) ? d : undefined;
}

async function askCrio(ctx: Context, image: string, namespace: string | undefined, scope: string): Promise<AdmissionRow> {
  const t0 = performance.now();
  const ref = normaliseImage(image);
  const wasStored = await present(ctx, image);
  const args = namespace ? ['pull', '--pod-config', await podConfig(ctx, 'verify', namespace), image] : ['pull', image];
  const outcome = classifyPull(await runCrictl(ctx, args));
  const verdict: Admission = outcome.actual === 'accepted' ? 'admitted' : outcome.actual === 'rejected' ? 'refused' : 'error';
  const digest = verdict === 'admitted' ? await storedDigest(ctx, image, ref.name) : await namedDigest(image);
  // An image this run brought into storage leaves with it; one that was there stays.
  if (verdict === 'admitted' && !wasStored) await runCrictl(ctx, ['rmi', image], { timeoutMs: 60_000 });
  return { image, digest, verdict, reason: outcome.reason, scope, durationMs: Math.round(performance.now() - t0) };
}

/** The scope of the candidate (or of the installed policy) that decides for each image. */
async function scopes(ctx: Context, images: string[], candidate?: Candidate): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const rd = candidate ? await readRegistriesD(ctx) : undefined;
  for (const image of images) {
    const ex = candidate && rd ? explainWith(candidate.doc, candidate.source, rd, image, normaliseImage(image)) : await explainImage(ctx, image);
    out.set(image, ex.decidedBy.scope === undefined ? 'default' : `docker: ${ex.decidedBy.scope || '""'}`);
  }
  return out;
}

/**
 * Each image asked of CRI-O once, `concurrency` at a time. With a candidate, every pull is made in
 * the scratch namespace, and the candidate exists on the node only for that time.
 */
export async function askAdmission(ctx: Context, images: string[], opts: { candidate?: Candidate; concurrency?: number; onDone?: (row: AdmissionRow) => void } = {}): Promise<AdmissionRun> {
  const unique = [...new Set(images)];
  const decidedBy = await scopes(ctx, unique, opts.candidate);
  const { default: pLimit } = await import('p-limit');
  const limit = pLimit(opts.concurrency ?? 4);
  const pullAll = (namespace?: string): Promise<AdmissionRow[]> =>
    Promise.all(
      unique.map((image) =>
        limit(async () => {
          const row = await askCrio(ctx, image, namespace, decidedBy.get(image)!);
          opts.onDone?.(row);
          return row;
        }),
      ),
    );
  const run = opts.candidate
    ? await withScratchNamespace(ctx, opts.candidate.text, async (namespace) => ({ rows: await pullAll(namespace), policy: opts.candidate!.source, namespace }))
    : { rows: await pullAll(), policy: 'the installed policy' };
  // One read of CRI-O's log after the pulls: the policy file each pull applied.
  const log = await (await serviceManager(ctx)).logs(ctx, crioService(ctx), 5000).catch(() => '');
  for (const row of run.rows) row.policyPath = policyPathsFromLog(log, refIdentity(normaliseImage(row.image))).pop() ?? policyPathsFromLog(log, row.image).pop();
  return run;
}

/** Exit 1 when CRI-O refused any image (a CI gate), 3 when it never decided for some and refused none. */
export function admissionExitCode(rows: AdmissionRow[]): number {
  if (rows.some((r) => r.verdict === 'refused')) return EXIT.verdict;
  if (rows.some((r) => r.verdict === 'error')) return EXIT.environment;
  return EXIT.ok;
}
