// The matrix's own additions to the node: installed after the product's chain, only for the cases
// selected, and removed when the run ends (normally, by error, SIGINT or SIGTERM). `clean`
// removes what a killed run left behind. None of them admits an unsigned image.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Context } from '../../core/context.js';
import { EnvironmentError } from '../../core/errors.js';
import { withUndo } from '../../core/interrupt.js';
import type { Step } from '../../core/step.js';
import { done, todo } from '../../core/step.js';
import { readCrioConfig } from '../../crio/config.js';
import { policyText } from '../../policy/render.js';
import { renderInsecureRegistry } from '../../registry/registries-conf.js';
import { otherKeyDir } from '../../registry/signing.js';
import { pkiDir, pkiFiles } from './pki.js';
import { gpgDir, gpgPublicKey } from './gpg.js';
import { reloadCrioIfRunning } from '../../services/steps.js';
import { statePaths } from '../../core/state.js';
import {
  ALIAS_REGISTRIES_CONF,
  ALIAS_REGISTRY,
  ALL_OF_NAMESPACE,
  ALL_OF_POLICY,
  ANY_KEY_NAMESPACE,
  ANY_KEY_POLICY,
  GPG_KEY_PATH,
  GPG_NAMESPACE,
  GPG_POLICY,
  GPG_REGISTRIES_D_FILE,
  GPG_SCOPE,
  gpgRegistriesD,
  TRUSTED_KEY_COPY_PATH,
  OPEN_NAMESPACE,
  OPEN_NAMESPACE_POLICY,
  PKI_INTERMEDIATE_PATH,
  PKI_NAMESPACE,
  PKI_POLICY,
  PKI_ROOT_PATH,
  PKI_SUBJECT_EMAIL,
  ORIGINAL_STYLE_FILE,
  ORIGINAL_STYLE_REGISTRIES_D,
  SECOND_KEY_PATH,
} from './lab-config.js';

/** What a case needs on the node besides the product's trust configuration. */
export type NodeAddition = 'namespace-policy' | 'trust-models' | 'pki' | 'gpg' | 'alias-registry' | 'original-registries-d';

interface NodeFile {
  path: string;
  /** undefined: made by an earlier step that a dry run does not run (the second key). */
  content?: string | Buffer;
  source?: string;
  what: string;
  /** CRI-O reads registries.conf at start and on SIGHUP only. */
  reload?: boolean;
}

const namespacePolicyPath = async (ctx: Context, namespace = OPEN_NAMESPACE): Promise<string> => path.join((await readCrioConfig(ctx.opts.root)).signaturePolicyDir.value, `${namespace}.json`);

async function secondKey(ctx: Context): Promise<NodeFile> {
  const pub = await fs.readFile(path.join(otherKeyDir(ctx), 'cosign.pub')).catch(() => undefined);
  return { path: SECOND_KEY_PATH, content: pub, source: `${otherKeyDir(ctx)}/cosign.pub (made by matrix-other-key)`, what: 'public key of the second key pair (cases 10, 11, 14 and 15)' };
}

async function filesOf(ctx: Context, kind: NodeAddition): Promise<NodeFile[]> {
  switch (kind) {
    case 'namespace-policy':
      return [await secondKey(ctx), { path: await namespacePolicyPath(ctx), content: policyText(OPEN_NAMESPACE_POLICY), what: `namespace policy of ${OPEN_NAMESPACE}: signatures by the second key only (cases 10 and 11)` }];
    case 'trust-models': {
      const trusted = statePaths(ctx.stateDir).publicKey;
      return [
        await secondKey(ctx),
        { path: TRUSTED_KEY_COPY_PATH, content: await fs.readFile(trusted).catch(() => undefined), source: `${trusted} (made by gen-keys)`, what: 'a copy of the trusted public key for the trust-model policies (cases 14 and 15)' },
        { path: await namespacePolicyPath(ctx, ANY_KEY_NAMESPACE), content: policyText(ANY_KEY_POLICY), what: `namespace policy of ${ANY_KEY_NAMESPACE}: a signature by either key, keyPaths (case 14)` },
        { path: await namespacePolicyPath(ctx, ALL_OF_NAMESPACE), content: policyText(ALL_OF_POLICY), what: `namespace policy of ${ALL_OF_NAMESPACE}: signatures by both keys, two requirements (case 15)` },
      ];
    }
    case 'pki': {
      const f = pkiFiles(pkiDir(ctx));
      const made = async (file: string) => ({ content: await fs.readFile(file).catch(() => undefined), source: `${file} (made by matrix-pki)` });
      return [
        { path: PKI_ROOT_PATH, ...(await made(f.root)), what: "the matrix's X.509 root CA (case 16)" },
        { path: PKI_INTERMEDIATE_PATH, ...(await made(f.intermediate)), what: "the matrix's intermediate CA (case 16)" },
        { path: await namespacePolicyPath(ctx, PKI_NAMESPACE), content: policyText(PKI_POLICY), what: `namespace policy of ${PKI_NAMESPACE}: a certificate from the matrix's CA for ${PKI_SUBJECT_EMAIL} (case 16)` },
      ];
    }
    case 'gpg': {
      const pub = gpgPublicKey(gpgDir(ctx), 'signer');
      return [
        { path: GPG_KEY_PATH, content: await fs.readFile(pub).catch(() => undefined), source: `${pub} (made by matrix-gpg-keys)`, what: "the matrix's trusted GPG public key (case 17)" },
        { path: GPG_REGISTRIES_D_FILE, content: stringify(gpgRegistriesD(statePaths(ctx.stateDir).lookasideDir)), what: `registries.d: the lookaside store of ${GPG_SCOPE}, a directory of the state (case 17)` },
        { path: await namespacePolicyPath(ctx, GPG_NAMESPACE), content: policyText(GPG_POLICY), what: `namespace policy of ${GPG_NAMESPACE}: a simple signature by the matrix's GPG key (case 17)` },
      ];
    }
    case 'alias-registry':
      return [{ path: ALIAS_REGISTRIES_CONF, content: renderInsecureRegistry([ALIAS_REGISTRY]), what: `${ALIAS_REGISTRY}, a second name of the local registry, plain HTTP (case 6)`, reload: true }];
    case 'original-registries-d':
      return [{ path: ORIGINAL_STYLE_FILE, content: stringify(ORIGINAL_STYLE_REGISTRIES_D), what: "registries.d in the original proof's style, one repository (case 12)" }];
  }
}

const ALL: NodeAddition[] = ['namespace-policy', 'trust-models', 'pki', 'gpg', 'alias-registry', 'original-registries-d'];

async function filesFor(ctx: Context, kinds: Iterable<NodeAddition>): Promise<NodeFile[]> {
  // Two additions may share a file (the second key): each path once.
  const files = (await Promise.all([...new Set(kinds)].map((k) => filesOf(ctx, k)))).flat();
  return files.filter((f, i) => files.findIndex((g) => g.path === f.path) === i);
}

/** Installs the additions the selected cases need (recorded like every system file); returns their paths. */
export async function addNodeAdditions(ctx: Context, kinds: NodeAddition[]): Promise<string[]> {
  let reload = false;
  const files = await filesFor(ctx, kinds);
  for (const f of files) {
    if (f.content === undefined) throw new EnvironmentError(`${f.source} is missing, so ${f.path} cannot be installed`, 'crio-sigpoc test (its steps gen-keys and matrix-other-key make the key pairs)');
    if ((await ctx.files.install(f.path, f.content, 0o644)) === 'written' && f.reload) reload = true;
  }
  if (reload) await reloadCrioIfRunning(ctx);
  return files.map((f) => f.path);
}

/** Removes every addition the matrix may have made, whatever cases ran; returns the paths removed. */
export async function removeNodeAdditions(ctx: Context): Promise<string[]> {
  const removed: string[] = [];
  let reload = false;
  for (const f of await filesFor(ctx, ALL)) {
    if ((await ctx.files.remove(f.path)) !== 'removed') continue;
    removed.push(f.path);
    if (f.reload) reload = true;
  }
  if (reload) await reloadCrioIfRunning(ctx);
  return removed;
}

/** The paths of the additions present on the node now (a run killed by SIGKILL leaves them). */
export async function nodeAdditionsPresent(ctx: Context): Promise<string[]> {
  const present: string[] = [];
  for (const f of await filesFor(ctx, ALL)) if (await ctx.files.exists(f.path)) present.push(f.path);
  return present;
}

/** The cases run with the additions in place; they are removed however the run ends. */
export function whileAdded<T>(ctx: Context, run: () => Promise<T>): Promise<T> {
  return withUndo(run, async () => void (await removeNodeAdditions(ctx)), "the matrix's additions may be left on the node: crio-sigpoc clean removes them");
}

/** For `clean`: the additions a killed run left behind are removed. */
export function nodeLeftoversStep(): Step {
  return {
    id: 'matrix-node-leftovers',
    title: "the matrix's additions to the node removed",
    async check(ctx) {
      const left = await nodeAdditionsPresent(ctx);
      return left.length ? todo(`left by an interrupted test: ${left.join(', ')}`) : done();
    },
    async apply(ctx) {
      await removeNodeAdditions(ctx);
    },
  };
}

/** What a dry run shows of the additions: each file, what it is for, and where its bytes come from. */
export async function nodeAdditionsPlan(ctx: Context, kinds: NodeAddition[]): Promise<{ path: string; what: string }[]> {
  return (await filesFor(ctx, kinds)).map((f) => ({ path: f.path, what: f.content === undefined ? `${f.what}, from ${f.source}` : f.what }));
}

export const nodeAdditionsText = (files: { path: string; what: string }[]): string =>
  files.length
    ? `  while the cases run, the matrix adds to the node (removed when the run ends, also on error, Ctrl-C or SIGTERM; after a kill: crio-sigpoc clean):\n${files.map((f) => `       ${f.path}: ${f.what}\n`).join('')}`
    : '';
