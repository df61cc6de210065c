// The lab path's binaries, built from Go modules at pinned versions and cached per version in
// <cacheDir>/go/<name>@<version>/<binary>: a cached binary is never rebuilt. Every build writes a
// temporary name and renames it when complete, so a killed build leaves no half binary behind.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { must, ok } from '../core/command.js';
import type { Step } from '../core/step.js';
import { done, todo } from '../core/step.js';
import { EnvironmentError } from '../core/errors.js';
import { VERSIONS } from '../core/settings.js';
import { fileExists } from './install-file.js';

export interface Built {
  name: string;
  version: string;
  binary: string;
}

export const cachedBinary = (ctx: Context, b: Built): string => path.join(ctx.cacheDir, 'go', `${b.name}@${b.version}`, b.binary);

/** Tools that `go install module/cmd@version` builds as they are. */
export interface GoInstallable extends Built {
  pkg: string;
}

export const CRICTL: GoInstallable = { name: 'crictl', version: VERSIONS.crictl, binary: 'crictl', pkg: 'sigs.k8s.io/cri-tools/cmd/crictl' };
export const COSIGN_V3: GoInstallable = { name: 'cosign', version: VERSIONS.cosign, binary: 'cosign', pkg: 'github.com/sigstore/cosign/v3/cmd/cosign' };
export const COSIGN_V2: GoInstallable = { name: 'cosign', version: VERSIONS.cosignV2, binary: 'cosign', pkg: 'github.com/sigstore/cosign/v2/cmd/cosign' };
export const CRIO: Built = { name: 'crio', version: VERSIONS.crio, binary: 'crio' };
export const PINNS: Built = { name: 'pinns', version: VERSIONS.crio, binary: 'pinns' };

const CRIO_MODULE = 'github.com/cri-o/cri-o';
/** containers_image_openpgp: no gpgme; btrfs excluded under cgo; seccomp needs libseccomp-dev. */
const CRIO_TAGS = 'containers_image_openpgp exclude_graphdriver_btrfs seccomp';
export const BUILD_TIMEOUT_MS = 2 * 60 * 60_000;

export function cachedStep(id: string, b: Built, build: (ctx: Context, tmp: string) => Promise<void>): Step {
  return {
    id,
    title: `build ${b.binary} ${b.version} (cached in <cache>/go/${b.name}@${b.version})`,
    async check(ctx) {
      const bin = cachedBinary(ctx, b);
      return (await fileExists(bin)) ? done(bin) : todo(`not built yet: ${bin}`);
    },
    async apply(ctx) {
      await requireGo(ctx);
      const bin = cachedBinary(ctx, b);
      const tmp = `${bin}.tmp`;
      if (!ctx.opts.dryRun) await fs.mkdir(path.dirname(bin), { recursive: true });
      await build(ctx, tmp);
      if (!ctx.opts.dryRun) await fs.rename(tmp, bin);
    },
  };
}

export function goInstallStep(id: string, t: GoInstallable): Step {
  return cachedStep(id, t, async (ctx, tmp) => {
    // go install names the file after the command: build into a private GOBIN, then move it.
    const gobin = `${tmp}.gobin`;
    if (!ctx.opts.dryRun) await fs.rm(gobin, { recursive: true, force: true });
    await must(ctx.runner, { file: 'go', args: ['install', `${t.pkg}@${t.version}`], env: { GOBIN: gobin }, timeoutMs: BUILD_TIMEOUT_MS });
    if (ctx.opts.dryRun) return;
    await fs.rename(path.join(gobin, t.binary), tmp);
    await fs.rm(gobin, { recursive: true, force: true });
  });
}

/**
 * A module's directory in the module cache. `go install module/cmd@version` fails through this
 * proxy for some modules (it answers 403 to the version list go queries for deprecation), so
 * download the module and build inside it. Under --dry-run nothing is downloaded: the plan names
 * the directory.
 */
export function moduleDir(ctx: Context, module: string, version: string): Promise<string> {
  return ctx.memo(`module-dir ${module}@${version}`, async () => {
    const r = await must(ctx.runner, { file: 'go', args: ['mod', 'download', '-json', `${module}@${version}`], timeoutMs: BUILD_TIMEOUT_MS });
    if (ctx.opts.dryRun) return `<Dir of ${module}@${version}>`;
    const dir = (JSON.parse(r.stdout) as { Dir?: string }).Dir;
    if (!dir) throw new EnvironmentError(`go mod download printed no Dir for ${module}@${version}`, 'run it by hand with -x to see what the proxy answers');
    return dir;
  });
}

const crioModuleDir = (ctx: Context): Promise<string> => moduleDir(ctx, CRIO_MODULE, VERSIONS.crio);

export const crioBuildStep = (): Step =>
  cachedStep('build-crio', CRIO, async (ctx, tmp) => {
    const dir = await crioModuleDir(ctx);
    // go -C: the plan shows where it builds (a cwd would not appear in it).
    await must(ctx.runner, {
      file: 'go',
      args: ['-C', dir, 'build', '-trimpath', '-tags', CRIO_TAGS, '-o', tmp, './cmd/crio'],
      env: { CGO_ENABLED: '1' },
      timeoutMs: BUILD_TIMEOUT_MS,
    });
  });

/** pinns is C inside CRI-O's module (upstream: make -C pinns); static so it runs in any namespace. */
export const pinnsBuildStep = (): Step =>
  cachedStep('build-pinns', PINNS, async (ctx, tmp) => {
    const src = path.join(await crioModuleDir(ctx), 'pinns', 'src');
    const sources = ctx.opts.dryRun
      ? [path.join(src, '*.c')]
      : (await fs.readdir(src))
          .filter((f) => f.endsWith('.c'))
          .sort()
          .map((f) => path.join(src, f));
    await must(ctx.runner, { file: 'gcc', args: ['-std=c99', '-Os', '-Wall', '-static', '-o', tmp, ...sources], timeoutMs: 600_000 });
  });

/** Asked only when something must be built (once per run): a full cache needs no Go at all. */
function requireGo(ctx: Context): Promise<void> {
  return ctx.memo('go-required', async () => {
    if (ok(await ctx.runner.run({ file: 'go', args: ['env', 'GOVERSION'], readOnly: true }))) return;
    const missing = 'Go is needed to build CRI-O, crictl and cosign, and `go` was not found';
    const next = 'install Go ≥ 1.26.3 (https://go.dev/dl) and put it on PATH, then run setup --from source again';
    // A plan still shows every build; the real run stops here.
    if (ctx.opts.dryRun) ctx.log.warn(`warning: ${missing}; ${next}`);
    else throw new EnvironmentError(missing, next);
  });
}
