// cosign: which major is installed, and the flags that make a signature CRI-O can find.
import path from 'node:path';
import type { Context } from '../core/context.js';
import { must, ok } from '../core/command.js';
import { VERSIONS } from '../core/settings.js';
import { EnvironmentError, InternalError } from '../core/errors.js';

export const cosignBinary = (): string => process.env.CRIO_SIGPOC_COSIGN || 'cosign';

export interface CosignVersion {
  version: string;
  major: number;
}

export function parseCosignVersion(output: string): CosignVersion | undefined {
  const m = /GitVersion:\s*v?(\d+)\.(\d+)\.(\d+)\S*/.exec(output);
  if (!m) return undefined;
  return { version: `v${m[1]}.${m[2]}.${m[3]}`, major: Number(m[1]) };
}

export async function cosignVersion(ctx: Context, binary = cosignBinary()): Promise<CosignVersion> {
  return ctx.memo(`cosign-version:${binary}`, async () => {
    const cmd = { file: binary, args: ['version'], readOnly: true };
    // A plan on a machine without cosign yet is made for the cosign that setup installs.
    if (ctx.opts.dryRun && !ok(await ctx.probe.run(cmd))) {
      const pinned = path.basename(binary) === 'cosign-v2' ? VERSIONS.cosignV2 : VERSIONS.cosign;
      return { version: `<version of ${binary}>`, major: Number(/\d+/.exec(pinned)![0]) };
    }
    const r = await must(ctx.probe, cmd);
    const v = parseCosignVersion(r.stdout + '\n' + r.stderr);
    if (!v) throw new EnvironmentError(`cannot read the version of ${binary} from: ${r.stdout.split('\n')[0]}`, 'sudo crio-sigpoc setup --from source  (installs the pinned cosign)');
    return v;
  });
}

/**
 * Key-only, offline signing in the legacy `.sig` format that containers/image reads. cosign v3's
 * default (a Sigstore bundle attached as an OCI referrer) is invisible to CRI-O, so v3 needs all
 * four switches; v2 writes `.sig` by default and only needs the transparency log off.
 */
export function signArgs(major: number, keyFile: string, imageByDigest: string, x509: { certificate?: string; chain?: string } = {}): string[] {
  if (!imageByDigest.includes('@sha256:')) throw new InternalError(`sign by digest, not by tag: ${imageByDigest}`);
  // An X.509 leaf's key signs with its certificate attached; cosign checks the chain before it signs.
  const cert = [...(x509.certificate ? ['--certificate', x509.certificate] : []), ...(x509.chain ? ['--certificate-chain', x509.chain] : [])];
  const common = ['sign', '--key', keyFile, ...cert, '--tlog-upload=false', '--yes'];
  const v3 = major >= 3 ? ['--new-bundle-format=false', '--use-signing-config=false'] : [];
  return [...common, ...v3, imageByDigest];
}
