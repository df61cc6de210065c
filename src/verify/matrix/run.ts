// Runs the matrix's verdicts against CRI-O: independent cases concurrently, cases that share an
// image one after another. Each pull starts from an image removed from CRI-O's storage.
import path from 'node:path';
import type { Context } from '../../core/context.js';
import type { RunResult } from '../../core/command.js';
import { ok } from '../../core/command.js';
import { which } from '../../core/which.js';
import type { Verdict } from '../verdict.js';
import { crioService, serviceManager } from '../../services/index.js';
import { runCrictl } from '../../crio/crictl.js';
import { podConfig as podConfigIn } from '../../crio/pod-config.js';
import { cosignBinary, cosignVersion } from '../../registry/cosign.js';
import { statePaths } from '../../core/state.js';
import type { PullOutcome } from '../pull-verdict.js';
import { policyPathsFromLog } from '../../crio/log-events.js';
import { classifyPull, SIGNATURE_REASON } from '../pull-verdict.js';
import type { MatrixCase } from './cases.js';
import { BUNDLE_FIX, cosignV2Binary } from './cases.js';
import type { NodeAddition } from './node.js';
import { CLOSED_NAMESPACE, OPEN_NAMESPACE } from './lab-config.js';
import * as preparers from './prepare.js';

export function judge(c: MatrixCase, o: PullOutcome): boolean {
  if (o.actual !== c.expected) return false;
  if (c.expected === 'rejected') return o.reason.includes(SIGNATURE_REASON) && (!c.reason || c.reason.test(o.reason));
  return true;
}

/** Why a case cannot run on this machine, or undefined when it can. */
export async function missingFor(ctx: Context, c: MatrixCase): Promise<string | undefined> {
  if (c.needs === 'cosign-v2') {
    if (!(await which(cosignV2Binary()))) return `${cosignV2Binary()} is not installed (setup --from source builds it; or set CRIO_SIGPOC_COSIGN_V2)`;
    const v = await cosignVersion(ctx, cosignV2Binary()).catch(() => undefined);
    if (v?.major !== 2) return `${cosignV2Binary()} is not cosign v2 (${v?.version ?? 'no version'})`;
  }
  if (c.needs === 'cosign-v3') {
    const v = await cosignVersion(ctx, cosignBinary()).catch(() => undefined);
    if (!v || v.major < 3) return `${cosignBinary()} is cosign ${v?.version ?? '(absent)'}, not v3`;
  }
  if (c.needs === 'gpg') {
    for (const [bin, pkg] of [['gpg', 'gpg'], ['gpgconf', 'gpgconf'], ['skopeo', 'skopeo']]) if (!(await which(bin))) return `${bin} is not installed (apt-get install ${pkg}; setup --from source installs it), so the GPG signatures of case 17 cannot be made`;
  }
  if (c.needs === 'openssl' && !(await which('openssl'))) return 'openssl is not installed (apt-get install openssl), so the PKI of case 16 cannot be made';
  return undefined;
}

const podConfig = (ctx: Context, namespace: string): Promise<string> => podConfigIn(ctx, 'matrix', namespace);

const run = (ctx: Context, args: string[]): Promise<RunResult> => runCrictl(ctx, args);

async function pull(ctx: Context, image: string, namespace?: string): Promise<PullOutcome> {
  await run(ctx, ['rmi', image]);
  const args = namespace ? ['pull', '--pod-config', await podConfig(ctx, namespace), image] : ['pull', image];
  return classifyPull(await run(ctx, args));
}

/** Case 8: CRI-O must reject, and cosign itself must still verify the signature it cannot see. */
async function invisibleSignature(ctx: Context, c: MatrixCase): Promise<PullOutcome> {
  const o = await pull(ctx, c.image);
  const pub = statePaths(ctx.stateDir).publicKey;
  const verify = await ctx.runner.run({ file: cosignBinary(), args: ['verify', '--key', pub, '--insecure-ignore-tlog=true', c.image], timeoutMs: 60_000 });
  if (!ok(verify)) return { actual: 'error', reason: `cosign verify did not pass either, so this proves nothing: ${verify.stderr.trim().split('\n').pop()}` };
  if (o.actual !== 'rejected') return o;
  return { actual: 'rejected', reason: `signature invisible to CRI-O (cosign verify passes): ${o.reason} — fix: ${BUNDLE_FIX}` };
}

/** Case 10: put the image in storage past the policy (an open namespace), then ask again as a pod would. */
async function preloaded(ctx: Context, c: MatrixCase): Promise<PullOutcome> {
  const stale = await run(ctx, ['pods', '--name', `sigpoc-${CLOSED_NAMESPACE}`, '-q']);
  for (const id of stale.stdout.split('\n').filter(Boolean)) await run(ctx, ['rmp', '-f', id]);
  const loaded = await pull(ctx, c.image, OPEN_NAMESPACE);
  if (loaded.actual !== 'accepted') return { actual: 'error', reason: `could not put the image in storage first: ${loaded.reason}` };
  const again = classifyPull(await run(ctx, ['pull', c.image]));
  if (again.actual !== 'rejected') return { actual: again.actual, reason: `a new pull: ${again.reason}` };
  const pod = await podConfig(ctx, CLOSED_NAMESPACE);
  const sandbox = await run(ctx, ['runp', pod]);
  if (!ok(sandbox)) return { actual: 'error', reason: `crictl runp failed, container creation not tried: ${(sandbox.stderr || sandbox.stdout).trim()}` };
  const id = sandbox.stdout.trim();
  const ctr = path.join(path.dirname(pod), 'container-preloaded.json');
  await ctx.state.write(ctr, JSON.stringify({ metadata: { name: 'preloaded' }, image: { image: c.image }, command: ['/bin/sleep', '3600'], log_path: 'preloaded.log', linux: {} }) + '\n');
  const create = await run(ctx, ['create', '--no-pull', id, ctr, pod]);
  await run(ctx, ['rmp', '-f', id]);
  await run(ctx, ['rmi', c.image]);
  if (ok(create)) return { actual: 'accepted', reason: 'a container was created from the unverified stored image' };
  const created = classifyPull(create);
  if (created.actual !== 'rejected') return { actual: 'error', reason: `container creation failed for another reason: ${created.reason}` };
  return { actual: 'rejected', reason: `pull: ${again.reason} | create: ${created.reason}` };
}

async function runCase(ctx: Context, matrixCase: MatrixCase): Promise<Verdict> {
  const t0 = performance.now();
  const c = matrixCase.imageOf ? { ...matrixCase, image: await matrixCase.imageOf(ctx) } : matrixCase;
  const missing = await missingFor(ctx, c);
  const outcome: PullOutcome | { actual: 'not-run'; reason: string } = missing
    ? { actual: 'not-run', reason: `not run: ${missing}` }
    : c.procedure === 'invisible-signature'
      ? await invisibleSignature(ctx, c)
      : c.procedure === 'preloaded'
        ? await preloaded(ctx, c)
        : await pull(ctx, c.image, c.namespace);
  return {
    name: c.name,
    image: c.image,
    expected: c.expected,
    actual: outcome.actual,
    reason: outcome.reason,
    durationMs: Math.round(performance.now() - t0),
    pass: outcome.actual !== 'not-run' && judge(c, outcome as PullOutcome),
  };
}

export async function runMatrix(ctx: Context, cases: MatrixCase[]): Promise<Verdict[]> {
  const groups = new Map<string, MatrixCase[]>();
  for (const c of cases) groups.set(c.serial ?? c.name, [...(groups.get(c.serial ?? c.name) ?? []), c]);
  const results = new Map<string, Verdict>();
  await Promise.all(
    [...groups.values()].map(async (group) => {
      for (const c of group) results.set(c.name, await runCase(ctx, c));
    }),
  );
  const verdicts = cases.map((c) => results.get(c.name)!);
  // One read of CRI-O's log after the pulls: which policy file each pull applied.
  const log = await (await serviceManager(ctx)).logs(ctx, crioService(ctx), 5000).catch(() => '');
  // Cases sharing an image ran in order, so the last lines for it belong to them in that order.
  const byImage = new Map<string, Verdict[]>();
  for (const v of verdicts) byImage.set(v.image, [...(byImage.get(v.image) ?? []), v]);
  for (const [image, same] of byImage) {
    const paths = policyPathsFromLog(log, image).slice(-same.length);
    same.forEach((v, i) => (v.policyPath = paths[i]));
  }
  return verdicts;
}

/** What the selected cases need on the node while they run, each once. */
export const additionsOf = (cases: MatrixCase[]): NodeAddition[] => [...new Set(cases.flatMap((c) => c.adds ?? []))];

/** The preparation steps of the selected cases, each once, in matrix order. */
export function preparationSteps(cases: MatrixCase[]) {
  const seen = new Set<string>();
  return cases.flatMap((c) => c.prepare(preparers)).filter((s) => (seen.has(s.id) ? false : (seen.add(s.id), true)));
}
