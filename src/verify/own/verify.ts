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
import type { LogMark, ServiceManager } from '../../services/index.js';
import { crioService, serviceManager } from '../../services/index.js';
import { policyPathsFromLog } from '../../crio/log-events.js';
import { classifyPull } from '../pull-verdict.js';
import type { Candidate } from './candidate.js';
import { withScratchNamespace } from './scratch-namespace.js';
import { timed } from '../../core/profile.js';

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

interface Stored {
  /** CRI-O's image ID. */
  id: string;
  repoDigests: string[];
}

/** What CRI-O's storage holds under the name: one `inspecti`, undefined when nothing. */
async function inspect(ctx: Context, image: string): Promise<Stored | undefined> {
  const r = await runCrictl(ctx, ['inspecti', '-o', 'json', image], { timeoutMs: 20_000 });
  if (!ok(r)) return undefined;
  const status = (JSON.parse(r.stdout) as { status?: { id?: string; repoDigests?: string[] } }).status;
  return status?.id ? { id: status.id, repoDigests: status.repoDigests ?? [] } : undefined;
}

/** The repo digest CRI-O stored for the image's repository. */
function repoDigest(stored: Stored | undefined, name: string): string | undefined {
  const mine = stored?.repoDigests.find((d) => d.startsWith(`${name}@`)) ?? stored?.repoDigests[0];
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

/**
 * One image asked of CRI-O. `known` says it is in storage already (the image of a running
 * container), so nothing is asked before the pull; otherwise one `inspecti` tells whether it was.
 * An image this run brought into storage leaves with it (the removal is pushed to `removals`);
 * one that was there stays.
 */
async function askCrio(ctx: Context, image: string, opts: { namespace?: string; scopeOf: () => Promise<string>; known: boolean; ready?: Promise<void>; removals: Promise<unknown>[] }): Promise<AdmissionRow> {
  const t0 = performance.now();
  const ref = normaliseImage(image);
  // Storage is asked while CRI-O's readiness is: nothing is pulled before it answers.
  const [before] = await Promise.all([opts.known ? undefined : inspect(ctx, image), opts.ready]);
  const args = opts.namespace ? ['pull', '--pod-config', await podConfig(ctx, 'verify', opts.namespace), image] : ['pull', image];
  const pulling = runCrictl(ctx, args);
  // Which scope decided is read from the policy while CRI-O pulls.
  const scope = opts.scopeOf();
  scope.catch(() => undefined);
  const outcome = classifyPull(await pulling);
  const verdict: Admission = outcome.actual === 'accepted' ? 'admitted' : outcome.actual === 'rejected' ? 'refused' : 'error';
  let digest: string | undefined;
  if (verdict !== 'admitted') digest = await namedDigest(image);
  else if (ref.digest) digest = ref.digest;
  else {
    // The pull names the image ID it ended with: the same as before, and storage said it already.
    const same = before && outcome.reason.includes(before.id.replace(/^sha256:/, ''));
    digest = repoDigest(same ? before : await inspect(ctx, image), ref.name);
  }
  if (verdict === 'admitted' && !opts.known && !before) opts.removals.push(runCrictl(ctx, ['rmi', image], { timeoutMs: 60_000 }));
  const durationMs = Math.round(performance.now() - t0);
  return { image, digest, verdict, reason: outcome.reason, scope: await scope, durationMs };
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
 * CRI-O's log since the mark: the policy file each pull applied. A journal may show a line a
 * moment after CRI-O answered, so the read is repeated, briefly, until each decided row has one.
 */
async function readPolicyPaths(ctx: Context, manager: ServiceManager, mark: LogMark, rows: AdmissionRow[]): Promise<void> {
  const deadline = performance.now() + 1000;
  for (;;) {
    const log = await manager.logsSince(ctx, crioService(ctx), mark).catch(() => '');
    for (const row of rows) row.policyPath = policyPathsFromLog(log, refIdentity(normaliseImage(row.image))).pop() ?? policyPathsFromLog(log, row.image).pop();
    if (rows.every((r) => r.verdict === 'error' || r.policyPath) || performance.now() > deadline) return;
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

/**
 * Each image asked of CRI-O once, `concurrency` at a time. With a candidate, every pull is made in
 * the scratch namespace, and the candidate exists on the node only for that time. `stored`: images
 * known to be in CRI-O's storage (they stay there). `ready`: whether CRI-O answers, asked while
 * storage is; nothing is pulled unless it does.
 */
export async function askAdmission(
  ctx: Context,
  images: string[],
  opts: {
    candidate?: Candidate;
    concurrency?: number;
    stored?: ReadonlySet<string>;
    ready?: Promise<void>;
    onDone?: (row: AdmissionRow) => void;
    /** Called once, when the first pull is under way: work (loading the report's modules) that then overlaps it. */
    whilePulling?: () => void;
  } = {},
): Promise<AdmissionRun> {
  const unique = [...new Set(images)];
  const manager = await serviceManager(ctx);
  const [{ default: pLimit }, mark] = await Promise.all([import('p-limit'), manager.logMark(ctx, crioService(ctx))]);
  // CRI-O is asked first; the scopes (reading and parsing the policy) are worked out while it pulls.
  let decidedBy: Promise<Map<string, string>> | undefined;
  const scopeOf = (image: string): Promise<string> => {
    if (!decidedBy) opts.whilePulling?.();
    decidedBy ??= timed('scopes (policy explain)', () => scopes(ctx, unique, opts.candidate));
    return decidedBy.then((m) => m.get(image)!);
  };
  const limit = pLimit(opts.concurrency ?? 4);
  const removals: Promise<unknown>[] = [];
  const pullAll = (namespace?: string): Promise<AdmissionRow[]> =>
    Promise.all(
      unique.map((image) =>
        limit(async () => {
          const row = await askCrio(ctx, image, { namespace, scopeOf: () => scopeOf(image), known: Boolean(opts.stored?.has(image)), ready: opts.ready, removals });
          opts.onDone?.(row);
          return row;
        }),
      ),
    );
  const run = opts.candidate
    ? await withScratchNamespace(ctx, opts.candidate.text, async (namespace) => ({ rows: await pullAll(namespace), policy: opts.candidate!.source, namespace }))
    : { rows: await pullAll(), policy: 'the installed policy' };
  await Promise.all([timed("policy files from CRI-O's log", () => readPolicyPaths(ctx, manager, mark, run.rows)), ...removals]);
  return run;
}

/** Exit 1 when CRI-O refused any image (a CI gate), 3 when it never decided for some and refused none. */
export function admissionExitCode(rows: AdmissionRow[]): number {
  if (rows.some((r) => r.verdict === 'refused')) return EXIT.verdict;
  if (rows.some((r) => r.verdict === 'error')) return EXIT.environment;
  return EXIT.ok;
}
