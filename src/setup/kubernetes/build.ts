// The cluster's binaries, built from Go modules like the rest of the lab and cached per version:
// kube-apiserver, kube-scheduler and kubelet through a generated wrapper module, and kine (etcd's
// API over sqlite) inside its own module.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../../core/context.js';
import { must } from '../../core/command.js';
import type { Step } from '../../core/step.js';
import { KINE_VERSION, KUBERNETES_VERSION } from './layout.js';
import type { WrapperModule } from './render.js';
import { renderWrapperGoMod, stagingModules } from './render.js';
import type { Built } from '../go-build.js';
import { BUILD_TIMEOUT_MS, cachedStep, moduleDir } from '../go-build.js';
import { fileExists } from '../install-file.js';

const KUBERNETES_MODULE = 'k8s.io/kubernetes';
const KINE_MODULE = 'github.com/k3s-io/kine';

export interface KubeCommand extends Built {
  pkg: string;
}

const kubeCommand = (name: string): KubeCommand => ({ name, version: KUBERNETES_VERSION, binary: name, pkg: `${KUBERNETES_MODULE}/cmd/${name}` });

export const KUBE_APISERVER = kubeCommand('kube-apiserver');
export const KUBE_SCHEDULER = kubeCommand('kube-scheduler');
export const KUBELET = kubeCommand('kubelet');
export const KUBE_COMMANDS = [KUBE_APISERVER, KUBE_SCHEDULER, KUBELET];
export const KINE: Built = { name: 'kine', version: KINE_VERSION, binary: 'kine' };

/** What `kubectl version` and the components report, as upstream's hack/lib/version.sh stamps it. */
export function kubeLdflags(version: string): string {
  const [major, minor] = version.replace(/^v/, '').split('.');
  const stamp = { gitVersion: version, gitMajor: major, gitMinor: minor, gitTreeState: 'clean' };
  const pkgs = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'];
  // -s -w: upstream strips its release binaries too.
  return ['-s', '-w', ...pkgs.flatMap((p) => Object.entries(stamp).map(([k, v]) => `-X ${p}.${k}=${v}`))].join(' ');
}

export const wrapperDir = (ctx: Context): string => path.join(ctx.cacheDir, 'go', `kubernetes-module@${KUBERNETES_VERSION}`);

/** k8s.io/kubernetes's go.mod as go reads it: its go version, godebug and replace directives. */
async function kubernetesGoMod(ctx: Context): Promise<Omit<WrapperModule, 'kubernetesVersion' | 'commands'>> {
  const dir = await moduleDir(ctx, KUBERNETES_MODULE, KUBERNETES_VERSION);
  const r = await must(ctx.runner, { file: 'go', args: ['mod', 'edit', '-json', path.join(dir, 'go.mod')], readOnly: true, timeoutMs: 60_000 });
  const doc = JSON.parse(r.stdout) as { Go: string; GoDebug?: { Key: string; Value: string }[]; Replace?: { Old: { Path: string }; New: { Path: string } }[] };
  return { go: doc.Go, godebug: doc.GoDebug ?? [], staging: stagingModules(doc) };
}

/**
 * The wrapper module, generated once per Kubernetes version: its go.sum exists only after a
 * complete `go mod tidy`. Under --dry-run the plan shows the write and the tidy, not their content
 * (it would need the module downloaded).
 */
function wrapperModule(ctx: Context): Promise<string> {
  return ctx.memo('kubernetes-wrapper', async () => {
    const dir = wrapperDir(ctx);
    const goMod = path.join(dir, 'go.mod');
    if (await fileExists(path.join(dir, 'go.sum'))) return dir;
    if (ctx.opts.dryRun) {
      await moduleDir(ctx, KUBERNETES_MODULE, KUBERNETES_VERSION);
      ctx.recorder.actions.push({ kind: 'write', step: ctx.recorder.step, path: goMod, mode: '0644', bytes: 0, sha256: '', display: `write ${goMod} (replaces from ${KUBERNETES_MODULE}@${KUBERNETES_VERSION}'s go.mod)` });
    } else {
      const text = renderWrapperGoMod({ ...(await kubernetesGoMod(ctx)), kubernetesVersion: KUBERNETES_VERSION, commands: KUBE_COMMANDS.map((c) => c.pkg) });
      ctx.recorder.write(goMod, text, 0o644);
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(goMod, text);
    }
    await must(ctx.runner, { file: 'go', args: ['-C', dir, 'mod', 'tidy'], timeoutMs: BUILD_TIMEOUT_MS });
    return dir;
  });
}

/** CGO off and the providerless tag, as upstream builds its release binaries. */
export const kubeBuildStep = (c: KubeCommand): Step =>
  cachedStep(`build-${c.name}`, c, async (ctx, tmp) => {
    const dir = await wrapperModule(ctx);
    await must(ctx.runner, {
      file: 'go',
      args: ['-C', dir, 'build', '-trimpath', '-tags', 'providerless', '-ldflags', kubeLdflags(c.version), '-o', tmp, c.pkg],
      env: { CGO_ENABLED: '0' },
      timeoutMs: BUILD_TIMEOUT_MS,
    });
  });

/** Without cgo kine uses a pure-Go sqlite, so the binary has no C dependency. */
export const kineBuildStep = (): Step =>
  cachedStep('build-kine', KINE, async (ctx, tmp) => {
    const dir = await moduleDir(ctx, KINE_MODULE, KINE_VERSION);
    await must(ctx.runner, {
      file: 'go',
      args: ['-C', dir, 'build', '-trimpath', '-ldflags', `-s -w -X ${KINE_MODULE}/pkg/version.Version=${KINE_VERSION}`, '-o', tmp, '.'],
      env: { CGO_ENABLED: '0' },
      timeoutMs: BUILD_TIMEOUT_MS,
    });
  });

export const kubernetesBuildSteps = (): Step[] => [...KUBE_COMMANDS.map(kubeBuildStep), kineBuildStep()];
