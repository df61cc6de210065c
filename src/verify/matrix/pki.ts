// Case 16's own X.509 PKI, made with openssl: a root and an intermediate CA, a leaf certificate
// for signing with the subject the policy requires, one with another subject, and one from a
// second root. The CA keys are deleted once the leaves are issued; each leaf key is kept only as
// a cosign key (encrypted, 0600), with its passphrase 0600 beside it.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../../core/context.js';
import { must } from '../../core/command.js';
import type { Step } from '../../core/step.js';
import { done, todo } from '../../core/step.js';
import { statePaths } from '../../core/state.js';
import { firstMissing } from '../../core/trust.js';
import { cosignBinary } from '../../registry/cosign.js';
import { readSecret } from '../../registry/keys.js';
import type { KeySource } from '../../registry/signing.js';
import { PKI_SUBJECT_EMAIL } from './lab-config.js';

export const pkiDir = (ctx: Context): string => statePaths(ctx.stateDir).pkiDir;

export type PkiIdentity = 'signer' | 'other-subject' | 'other-ca';
// The subject the policy requires; the same CA for another subject; the right subject from another CA.
const IDENTITIES: Record<PkiIdentity, { email: string; ca: 'int' | 'other-root' }> = {
  signer: { email: PKI_SUBJECT_EMAIL, ca: 'int' },
  'other-subject': { email: 'someone-else@crio-sigpoc.test', ca: 'int' },
  'other-ca': { email: PKI_SUBJECT_EMAIL, ca: 'other-root' },
};

/** The files a node and a signer read; the CA keys are gone by the time these exist. */
export const pkiFiles = (dir: string) => ({
  root: path.join(dir, 'root.pem'),
  intermediate: path.join(dir, 'intermediate.pem'),
  otherRoot: path.join(dir, 'other-root.pem'),
  password: path.join(dir, 'cosign.password'),
  leaf: (id: PkiIdentity) => ({ certificate: path.join(dir, `${id}.pem`), chain: path.join(dir, `${id}-chain.pem`), cosignKey: path.join(dir, `${id}-cosign.key`) }),
});

const openssl = (ctx: Context, args: string[]) => must(ctx.runner, { file: 'openssl', args, timeoutMs: 30_000 });
const serial = (): string => `0x${randomBytes(12).toString('hex')}`;
const CA_EXTENSIONS = (pathlen?: number) => ['-addext', `basicConstraints=critical,CA:TRUE${pathlen === undefined ? '' : `,pathlen:${pathlen}`}`, '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];

async function newKey(ctx: Context, file: string): Promise<void> {
  await openssl(ctx, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
}

async function selfSignedCa(ctx: Context, dir: string, name: string, cn: string): Promise<void> {
  await newKey(ctx, path.join(dir, `${name}.key`));
  await openssl(ctx, ['req', '-x509', '-new', '-key', path.join(dir, `${name}.key`), '-subj', `/CN=${cn}`, '-days', '3650', ...CA_EXTENSIONS(), '-out', path.join(dir, `${name}.pem`)]);
}

/** A certificate for name's key, issued by ca (whose key is ca.key beside ca.pem), with the extensions of the request. */
async function issue(ctx: Context, dir: string, name: string, ca: string, subject: string, extensions: string[]): Promise<void> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  await newKey(ctx, key);
  await openssl(ctx, ['req', '-new', '-key', key, '-subj', subject, ...extensions, '-out', csr]);
  await openssl(ctx, ['x509', '-req', '-in', csr, '-CA', path.join(dir, `${ca}.pem`), '-CAkey', path.join(dir, `${ca}.key`), '-set_serial', serial(), '-days', '3650', '-copy_extensions', 'copyall', '-out', path.join(dir, `${name}.pem`)]);
}

async function build(ctx: Context, dir: string, passphrase: string): Promise<void> {
  const f = pkiFiles(dir);
  await selfSignedCa(ctx, dir, 'root', 'crio-sigpoc matrix root CA');
  await issue(ctx, dir, 'intermediate', 'root', '/CN=crio-sigpoc matrix intermediate CA', CA_EXTENSIONS(0));
  await selfSignedCa(ctx, dir, 'other-root', 'crio-sigpoc matrix other root CA');
  for (const [id, { email, ca }] of Object.entries(IDENTITIES) as [PkiIdentity, (typeof IDENTITIES)[PkiIdentity]][]) {
    // The library accepts a leaf only for code signing, and reads the subject from its SAN.
    await issue(ctx, dir, id, ca === 'int' ? 'intermediate' : 'other-root', `/CN=${id}`, ['-addext', `subjectAltName=email:${email}`, '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=codeSigning']);
    await must(ctx.runner, {
      file: cosignBinary(),
      args: ['import-key-pair', '--key', path.join(dir, `${id}.key`), '--output-key-prefix', path.join(dir, `${id}-cosign`), '--yes'],
      env: { COSIGN_PASSWORD: passphrase },
      secretEnv: ['COSIGN_PASSWORD'],
      timeoutMs: 30_000,
    });
    if (ctx.opts.dryRun) continue;
    const chain = ca === 'int' ? [f.intermediate, f.root] : [f.otherRoot];
    await ctx.state.write(f.leaf(id).chain, (await Promise.all(chain.map((c) => fs.readFile(c, 'utf8')))).join(''));
  }
  await ctx.state.writeSecret(f.password, passphrase);
  if (ctx.opts.dryRun) return;
  // Nothing can issue another certificate for this PKI once it is made.
  const leftovers = (await fs.readdir(dir)).filter((n) => /\.(csr|key)$/.test(n) && !n.endsWith('-cosign.key'));
  await Promise.all(leftovers.map((n) => fs.rm(path.join(dir, n))));
}

const expectedFiles = (dir: string): string[] => {
  const f = pkiFiles(dir);
  return [f.root, f.intermediate, f.otherRoot, f.password, ...(Object.keys(IDENTITIES) as PkiIdentity[]).flatMap((id) => Object.values(f.leaf(id)))];
};

export function pkiStep(): Step {
  return {
    id: 'matrix-pki',
    title: 'an X.509 root and intermediate CA of the matrix, with leaf certificates for signing',
    async check(ctx) {
      const dir = pkiDir(ctx);
      const missing = await firstMissing(dir, expectedFiles(dir).map((f) => ({ path: f, secret: /\.(key|password)$/.test(f) })), { log: ctx.log, dryRun: ctx.opts.dryRun });
      if (missing === dir) return todo(`no PKI in ${dir}`);
      return missing ? todo(`${path.basename(missing)} is missing`) : done(dir);
    },
    async apply(ctx) {
      const dir = pkiDir(ctx);
      const passphrase = randomBytes(24).toString('base64url');
      await ctx.state.replaceDir(dir, (fresh) => build(ctx, fresh, passphrase));
    },
  };
}

/** A signer's key material: the cosign key of the leaf, its certificate and the chain up to its root. */
export function pkiSigner(id: PkiIdentity): KeySource {
  return {
    label: `X.509 ${id} certificate`,
    publicFile: (ctx) => pkiFiles(pkiDir(ctx)).leaf(id).certificate,
    async files(ctx) {
      const f = pkiFiles(pkiDir(ctx));
      const leaf = f.leaf(id);
      return { privateKey: leaf.cosignKey, passphrase: ctx.opts.dryRun ? '' : await readSecret(f.password), certificate: leaf.certificate, chain: leaf.chain };
    },
  };
}
