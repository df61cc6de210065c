// Gathers every status check. The probes are independent, read-only and short, so they run at
// once: status answers in about the time of its slowest probe.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import type { CrioConfig } from '../crio/config.js';
import { readCrioConfig } from '../crio/config.js';
import { parsePolicyText } from '../policy/file.js';
import { lintPolicy } from '../policy/lint.js';
import { readRegistriesD } from '../policy/registries-d.js';
import { lookupChain, normaliseImage } from '../policy/scope.js';
import { isSystemdHost } from '../services/index.js';
import type { ServiceMode } from '../services/types.js';
import { IMAGES, imageRef, registryAddress } from '../core/settings.js';
import { statePaths } from '../core/state.js';
import { renderedPolicyText } from '../policy/install.js';
import { pauseScope } from '../policy/render.js';
import type { PolicyFile } from './open-scopes.js';
import { openScopesCheck } from './open-scopes.js';
import { setupHint } from '../services/steps.js';
import { PROBE_TIMEOUT_MS, type Check } from './check.js';
import { crioLogCheck, crioLogFacts } from './crio-log.js';
import { rejectionFacts, rejectionsCheck } from './rejections.js';
import { crioServiceCheck, crioServiceFacts } from './crio-service.js';
import { keyPairCheck, policyKeysCheck } from './keys.js';
import { kubernetesCheck, kubernetesFacts } from './kubernetes.js';
import type { PolicyFacts } from './policy-content.js';
import { policyContentCheck } from './policy-content.js';
import { policyLintCheck } from './policy-lint.js';
import type { PolicySourceFacts } from './policy-source.js';
import { policySourceCheck } from './policy-source.js';
import { registriesDCheck } from './registries-d.js';
import { registryExposureChecks } from './registry-exposure.js';
import { registryCheck, registryFacts, signatureCheck, signatureFacts } from './registry.js';
import { toolChecks } from './tools.js';
import { pathExists } from '../core/fs-exists.js';

const readText = (p: string): Promise<string | undefined> => fs.readFile(p, 'utf8').catch(() => undefined);

async function policyFacts(ctx: Context, cfg: CrioConfig): Promise<PolicyFacts> {
  const file = cfg.effectivePolicyPath;
  const facts: PolicyFacts = { path: file, rendered: await renderedPolicyText(ctx) };
  try {
    facts.text = await fs.readFile(ctx.sys(file), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') facts.readError = (e as Error).message;
    return facts;
  }
  try {
    facts.parsed = await parsePolicyText(facts.text, file);
  } catch (e) {
    facts.parseError = (e as Error).message;
  }
  return facts;
}

/** The namespace policies CRI-O would use: regular .json files of signature_policy_dir, each parsed. */
async function namespacePolicies(ctx: Context, cfg: CrioConfig): Promise<PolicyFile[]> {
  const dir = cfg.signaturePolicyDir.value;
  const names = await fs.readdir(ctx.sys(dir)).catch(() => [] as string[]);
  const out: PolicyFile[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(dir, name);
    const st = await fs.lstat(ctx.sys(file)).catch(() => undefined);
    if (!st?.isFile() || st.size > 1 << 20) continue;
    const text = await readText(ctx.sys(file));
    const parsed = text === undefined ? undefined : await parsePolicyText(text, file).catch(() => undefined);
    out.push({ path: file, namespace: name.slice(0, -'.json'.length), parsed });
  }
  return out;
}

async function openScopeFacts(ctx: Context, cfg: CrioConfig, policy: PolicyFacts) {
  const files: PolicyFile[] = [{ path: policy.path, parsed: policy.parsed }, ...(await namespacePolicies(ctx, cfg))];
  return { files, pauseScope: pauseScope(cfg.pauseImage.value, registryAddress) };
}

async function policyKeys(ctx: Context, policy: PolicyFacts): Promise<Check | undefined> {
  if (!policy.parsed) return undefined;
  const reqs = [...policy.parsed.default, ...Object.values(policy.parsed.transports ?? {}).flatMap((scopes) => Object.values(scopes).flat())];
  const paths = [...new Set(reqs.flatMap((r) => (r.type === 'sigstoreSigned' ? [...(r.keyPath ? [r.keyPath] : []), ...(r.keyPaths ?? [])] : [])))];
  const ours = statePaths(ctx.stateDir).publicKey;
  const oursText = await readText(ours);
  return policyKeysCheck({
    keys: await Promise.all(paths.map(async (p) => ({ path: p, text: await readText(ctx.sys(p)) }))),
    statePublicKey: oursText === undefined ? undefined : { path: ours, text: oursText },
  });
}

async function keyPairFacts(ctx: Context) {
  const { publicKey, privateKey, previousKeysDir, rotationJournal } = statePaths(ctx.stateDir);
  const has = (p: string) => fs.lstat(p).then(() => p, () => undefined);
  const [pub, priv, previous, journal] = await Promise.all([fs.stat(publicKey).catch(() => undefined), fs.stat(privateKey).catch(() => undefined), has(previousKeysDir), has(rotationJournal)]);
  return { publicKey, privateKey, publicExists: Boolean(pub), privateMode: priv ? priv.mode & 0o7777 : undefined, previousKeysDir: previous, rotationJournal: journal };
}

async function registryChecks(): Promise<Check[]> {
  // A registry under emulation or on a loaded VM can take more than a second to answer.
  const reg = registryCheck(await registryFacts(PROBE_TIMEOUT_MS));
  return reg.level === 'ok' ? [reg, signatureCheck(await signatureFacts())] : [reg];
}

/** The policy files in the tool's ledger that are not the one CRI-O reads (namespace policies aside). */
async function policySourceFacts(ctx: Context, cfg: CrioConfig): Promise<PolicySourceFacts> {
  const effective = ctx.sys(cfg.effectivePolicyPath);
  const nsDir = ctx.sys(cfg.signaturePolicyDir.value);
  const installed = Object.keys(await ctx.files.ledger()).filter((p) => p.endsWith('policy.json') && !p.startsWith(nsDir + '/'));
  return {
    effectiveExists: await pathExists(effective),
    installedElsewhere: installed.filter((p) => p !== effective),
  };
}

export async function collectChecks(ctx: Context): Promise<Check[]> {
  const [systemd, hint, cfg] = await Promise.all([isSystemdHost(), setupHint(), readCrioConfig(ctx.opts.root)]);
  const mode: ServiceMode = systemd ? 'systemd' : 'supervised';
  const policy = policyFacts(ctx, cfg);
  const signed = imageRef(IMAGES.signed);
  const groups = await Promise.all([
    toolChecks(ctx, hint),
    crioServiceFacts(ctx, cfg.listen.value, mode).then((f) => [crioServiceCheck(f, hint)]),
    policySourceFacts(ctx, cfg).then((f) => [policySourceCheck(cfg, hint, f)]),
    policy.then(policyContentCheck).then((c) => [c]),
    lintPolicy(ctx).then((r) => [policyLintCheck(r)]),
    policy.then((p) => policyKeys(ctx, p)).then((c) => (c ? [c] : [])),
    policy.then((p) => openScopeFacts(ctx, cfg, p)).then((f) => [openScopesCheck(f)]),
    readRegistriesD(ctx).then((rd) => [registriesDCheck(rd, signed, lookupChain(normaliseImage(signed)))]),
    keyPairFacts(ctx).then((f) => [keyPairCheck(f)]),
    registryChecks(),
    registryExposureChecks(ctx),
    crioLogFacts(ctx, mode).then((f) => [crioLogCheck(f)]),
    rejectionFacts(ctx, mode).then((f) => [rejectionsCheck(f)]),
    kubernetesFacts(ctx).then((f) => [kubernetesCheck(f)]),
  ]);
  return groups.flat();
}
