// The programs the proof needs, with their versions; an absent one says which command installs it.
import type { Context } from '../core/context.js';
import type { RunResult } from '../core/command.js';
import { VERSIONS } from '../core/settings.js';
import { cosignBinary, parseCosignVersion } from '../registry/cosign.js';
import type { Check, Level } from './check.js';
import { check, notInstalled, PROBE_TIMEOUT_MS } from './check.js';

export interface ToolSpec {
  id: string;
  title: string;
  file: string;
  args: string[];
  /** The version as the program prints it, normalised to vX.Y.Z. */
  version(output: string): string | undefined;
  /** Versions the tool pins; anything else works perhaps, but is not what was tested. */
  pinned: string[];
  absent: Level;
  /** What it is needed for, said when it is absent. */
  neededFor: string;
  /** How to install it, when `setup` does not. */
  install?: string;
}

const v = (s: string | undefined): string | undefined => (s ? (s.startsWith('v') ? s : `v${s}`) : undefined);

export const TOOLS: ToolSpec[] = [
  { id: 'crio', title: 'CRI-O', file: 'crio', args: ['--version'], version: (o) => v(/crio version (v?\d\S*)/.exec(o)?.[1]), pinned: [VERSIONS.crio], absent: 'problem', neededFor: 'the runtime whose verification is proven' },
  { id: 'crictl', title: 'crictl', file: 'crictl', args: ['--version'], version: (o) => v(/crictl version (v?\d\S*)/.exec(o)?.[1]), pinned: [VERSIONS.crictl], absent: 'problem', neededFor: 'test pulls through CRI-O' },
  { id: 'cosign', title: 'cosign', file: cosignBinary(), args: ['version'], version: (o) => parseCosignVersion(o)?.version, pinned: [VERSIONS.cosign, VERSIONS.cosignV2], absent: 'problem', neededFor: 'gen-keys and sign-image' },
  { id: 'docker', title: 'Docker', file: 'docker', args: ['--version'], version: (o) => v(/Docker version ([^,\s]+)/.exec(o)?.[1]), pinned: [], absent: 'warning', neededFor: 'the registry:2 container and pushing the test images' },
  { id: 'kubectl', title: 'kubectl', file: 'kubectl', args: ['version', '--client'], version: (o) => /Client Version: (\S+)/.exec(o)?.[1], pinned: [], absent: 'warning', neededFor: 'test-pods only', install: 'install kubectl (Kubernetes community repository, same minor as CRI-O) where a cluster runs' },
];

export function toolCheck(spec: ToolSpec, r: RunResult, setupHint: string): Check {
  const id = `tool-${spec.id}`;
  const argv = [spec.file, ...spec.args].join(' ');
  if (notInstalled(r)) return check(id, spec.title, spec.absent, `${spec.file} is not installed (needed for ${spec.neededFor})`, { fix: spec.install ?? setupHint });
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.exitCode !== 0 || r.timedOut) {
    const why = r.timedOut ? 'timed out' : `exited ${r.exitCode}`;
    return check(id, spec.title, 'warning', `\`${argv}\` ${why}: ${out.trim().split('\n').pop() ?? ''}`.trim(), { fix: setupHint });
  }
  const version = spec.version(out);
  // A binary built from source without a version stamp says "unknown": it works, its version is not known.
  if (!version) return check(id, spec.title, 'ok', `installed; \`${argv}\` names no version (${out.trim().split('\n')[0]})`);
  if (spec.pinned.length && !spec.pinned.includes(version)) {
    return check(id, spec.title, 'warning', `${version} installed; the tool was tested with ${spec.pinned.join(' or ')}`, { fix: setupHint });
  }
  // cosign v3 signs by default in a bundle format CRI-O cannot read; say how the tool copes.
  const note = spec.id === 'cosign' && version.startsWith('v3') ? ' (sign-image uses the legacy .sig format: v3\'s default bundle is invisible to CRI-O)' : '';
  return check(id, spec.title, 'ok', `${version}${note}`);
}

export async function toolChecks(ctx: Context, setupHint: string): Promise<Check[]> {
  return Promise.all(
    TOOLS.map(async (t) => toolCheck(t, await ctx.probe.run({ file: t.file, args: t.args, readOnly: true, timeoutMs: PROBE_TIMEOUT_MS }), setupHint)),
  );
}
