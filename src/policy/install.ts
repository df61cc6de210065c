// Installs the user's trust configuration and nothing else: the policy, in the file CRI-O actually
// reads, the registries.d entry that makes the library fetch cosign signatures, and the public key
// the policy names. What the verdict matrix needs on top exists only while `test` runs.
import { promises as fs } from 'node:fs';
import type { Context } from '../core/context.js';
import { readCrioConfig } from '../crio/config.js';
import { EnvironmentError } from '../core/errors.js';
import type { Step } from '../core/step.js';
import { done, drift } from '../core/step.js';
import { defaultPolicySettings, pauseScope, policyText, renderPolicy } from './render.js';
import { registriesDText, renderRegistriesD } from './registries-d-render.js';
import { registryAddress, SYSTEM_PATHS } from '../core/settings.js';
import { statePaths } from '../core/state.js';

export interface DesiredFile {
  path: string;
  /** undefined: an earlier step of this run makes it (the key pair), which a dry run does not run. */
  content?: string | Buffer;
  mode: number;
  what: string;
  /** The policy itself (the other files are what it names). */
  isPolicy?: boolean;
}

/**
 * The policy the tool renders for this machine: our registry signed, and only the scope of the
 * pause image CRI-O uses let in without verification.
 */
export async function renderedPolicyText(ctx: Context): Promise<string> {
  const crio = await readCrioConfig(ctx.opts.root);
  const s = defaultPolicySettings();
  s.allowedScopes = [pauseScope(crio.pauseImage.value, s.signedScope)];
  if (await previousPublicKey(ctx)) s.previousKeyPath = SYSTEM_PATHS.previousPublicKey;
  return policyText(renderPolicy(s));
}

/** The old public key while a rotation is under way (gen-keys --rotate), until --retire-old. */
const previousPublicKey = (ctx: Context): Promise<Buffer | undefined> => fs.readFile(statePaths(ctx.stateDir).previousPublicKey).catch(() => undefined);

export async function desiredPolicyFiles(ctx: Context, userPolicy?: { file: string; text: string }): Promise<DesiredFile[]> {
  const crio = await readCrioConfig(ctx.opts.root);
  const pub = await fs.readFile(statePaths(ctx.stateDir).publicKey).catch(() => undefined);
  // A plan on a fresh machine shows the key's write with a placeholder: gen-keys would make it first.
  if (!pub && !ctx.opts.dryRun) throw new EnvironmentError(`no public key in ${statePaths(ctx.stateDir).publicKey}`, 'crio-sigpoc gen-keys');
  const policy = userPolicy?.text ?? (await renderedPolicyText(ctx));
  const previous = await previousPublicKey(ctx);
  const files: DesiredFile[] = [
    { path: SYSTEM_PATHS.publicKey, content: pub, mode: 0o644, what: 'public key' },
    ...(previous ? [{ path: SYSTEM_PATHS.previousPublicKey, content: previous, mode: 0o644, what: 'public key being retired (key rotation)' }] : []),
    { path: crio.effectivePolicyPath, content: policy, mode: 0o644, isPolicy: true, what: `policy (the file CRI-O reads, decided by ${crio.signaturePolicy.source})` },
    { path: SYSTEM_PATHS.registriesDFile, content: registriesDText(renderRegistriesD([registryAddress])), mode: 0o644, what: 'registries.d (sigstore attachments)' },
  ];
  return files;
}

const policyFile = (files: DesiredFile[]): DesiredFile => files.find((f) => f.isPolicy)!;

/**
 * Lint before anything is written, seeing the files installed with it: a policy CRI-O cannot read,
 * or one that rejects what it means to let in, is refused (exit 2). Loaded only when needed: a
 * warm run compares bytes and never pays for the linter.
 */
async function refuseErrors(ctx: Context, files: DesiredFile[], userPolicy?: { file: string; text: string }): Promise<void> {
  const { refusePolicyErrors } = await import('./lint.js');
  await refusePolicyErrors(String(policyFile(files).content), userPolicy?.file ?? 'rendered policy.json', ctx, files);
}

export function policyStep(userPolicy?: { file: string; text: string }): Step {
  return {
    id: 'policy',
    title: 'signature policy, registries.d and public key',
    async check(ctx) {
      const files = await desiredPolicyFiles(ctx, userPolicy);
      if (userPolicy) await refuseErrors(ctx, files, userPolicy);
      const differ: string[] = [];
      for (const f of files) if (f.content === undefined || !(await ctx.files.matches(f.path, f.content, f.mode))) differ.push(f.path);
      // A retired key leaves the node once no policy names it any more (after the policy is written).
      if (!files.some((f) => f.path === SYSTEM_PATHS.previousPublicKey) && (await ctx.files.exists(SYSTEM_PATHS.previousPublicKey))) differ.push(`${SYSTEM_PATHS.previousPublicKey} (retired)`);
      return differ.length ? drift(`not as rendered: ${differ.join(', ')}`) : done(policyFile(files).path);
    },
    async apply(ctx) {
      const files = await desiredPolicyFiles(ctx, userPolicy);
      await refuseErrors(ctx, files, userPolicy);
      for (const f of files) {
        if (f.content === undefined) ctx.recorder.pendingWrite(ctx.sys(f.path), f.mode, `${statePaths(ctx.stateDir).publicKey}, made by the key pair step`);
        else await ctx.files.install(f.path, f.content, f.mode);
      }
      if (!files.some((f) => f.path === SYSTEM_PATHS.previousPublicKey)) await ctx.files.remove(SYSTEM_PATHS.previousPublicKey);
    },
  };
}
