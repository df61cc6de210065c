// The policy linter: what containers/image would refuse, and what it would accept but then use to
// reject images the user meant to let in (the classic mistakes). Each finding says the fix.
import { createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { Context } from '../core/context.js';
import { readCrioConfig } from '../crio/config.js';
import { UsageError } from '../core/errors.js';
import type { PolicyRequirement } from './file.js';
import { policySchema, requirementSchema } from './file.js';
import { pauseScope } from './render.js';
import { registryAddress, SYSTEM_PATHS } from '../core/settings.js';
import type { Finding, PathSegment, Severity } from './finding.js';
import { findingText, hasErrors, jsonPath } from './finding.js';
import { parseJsonSource } from './json-source.js';
import { crioImageLibrary, SIGSTORE_FIELD_MIN_VERSION, versionAtLeast } from './library-version.js';
import type { PendingFile, RegistriesD } from './registries-d.js';
import { attachmentsFor, readRegistriesD } from './registries-d.js';
import type { ParsedScope } from './scope.js';
import { decidingScope, normaliseImage, parseScope, scopeChain } from './scope.js';

export interface LintOptions {
  /** A registries.d directory to use instead of the one CRI-O reads. */
  registriesD?: string;
  /** Files about to be installed (install-policy): seen as if already in place. */
  pending?: PendingFile[];
}

export interface LintResult {
  policy: string;
  registriesD: string;
  findings: Finding[];
  /** Checks that could not run, and why. */
  notes: string[];
}

// Transport names (transports/alltransports): a top-level key with one of these names is a scope
// table that lost its "transports" wrapper.
const TRANSPORTS = ['docker', 'atomic', 'containers-storage', 'dir', 'docker-archive', 'docker-daemon', 'oci', 'oci-archive', 'ostree', 'sif', 'tarball'];

type Add = (segs: readonly PathSegment[], severity: Severity, code: string, message: string, fix: string) => void;

/** One requirement list of the policy: the default, or a transport's scope. */
interface Site {
  segs: PathSegment[];
  /** undefined for the default. */
  transport?: string;
  scope?: string;
  raw: unknown[];
  /** A scope table at the top level, outside "transports". */
  misplaced?: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeOf = (r: unknown): unknown => (isObject(r) ? r.type : undefined);

export async function lintPolicyText(text: string, file: string, ctx: Context, opts: LintOptions = {}): Promise<LintResult> {
  const rd = await readRegistriesD(ctx, { dir: opts.registriesD, pending: opts.pending });
  const result: LintResult = { policy: file, registriesD: rd.dir, findings: [], notes: [...rd.notes] };
  const done = (): LintResult => {
    result.findings.push(...rd.findings);
    result.findings.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? Infinity) - (b.line ?? Infinity) || a.code.localeCompare(b.code));
    return result;
  };
  const src = parseJsonSource(text, file);
  if (!('value' in src)) {
    result.findings.push(src);
    return done();
  }
  const add: Add = (segs, severity, code, message, fix) => result.findings.push({ file, jsonPath: jsonPath(segs), severity, code, message, fix, ...src.position(segs) });
  result.findings.push(...src.duplicates);
  const doc = src.value;
  if (!isObject(doc)) {
    add([], 'error', 'invalid-policy', 'the policy must be a JSON object with "default" and "transports"', 'start from the policy crio-sigpoc renders (config/policy.json)');
    return done();
  }
  schemaFindings(policySchema.safeParse(doc).error?.issues ?? [], [], doc, add);
  const sites = requirementSites(doc);
  for (const site of sites) {
    if (site.transport === undefined || site.transport === 'docker') scopeFindings(site, rd, add);
    for (const [i, raw] of site.raw.entries()) {
      const req = requirementSchema.safeParse(raw);
      if (req.success) await requirementFindings(req.data, [...site.segs, i], site, ctx, opts.pending ?? [], add, result.notes);
      // The policy schema stops at a misplaced table's name; its requirements are checked here.
      else if (site.misplaced) schemaFindings(req.error.issues, [...site.segs, i], doc, add);
    }
  }
  await libraryFindings(sites, ctx, add, result.notes);
  if (Array.isArray(doc.default)) {
    if (doc.default.some((r) => typeOf(r) === 'insecureAcceptAnything')) {
      add(['default'], 'warning', 'default-accepts-anything', 'the default accepts every image without a signature: only the scopes you list are verified', 'make the default [{"type": "reject"}] and list each registry you trust');
    }
    await pauseFindings(doc, ctx, add, result.notes);
  }
  return done();
}

/** Structural problems, named by what the user most likely meant. */
function schemaFindings(issues: z.core.$ZodIssue[], prefix: PathSegment[], doc: Record<string, unknown>, add: Add): void {
  const valueAt = (segs: readonly PropertyKey[]): unknown => segs.reduce<unknown>((v, k) => (isObject(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[k] : undefined), doc);
  for (const issue of issues) {
    const segs = [...prefix, ...(issue.path as PathSegment[])];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        if (segs.length === 0 && (TRANSPORTS.includes(key) || isScopeTable(doc[key]))) {
          add([key], 'error', 'missing-transports-wrapper', `"${key}" sits at the top level; the library expects scopes under "transports" and refuses the policy (Unknown key "${key}")`, `wrap it: {"default": [...], "transports": {"${key}": {…}}}`);
        } else {
          add([...segs, key], 'error', 'unknown-field', `unknown field "${key}"; the library refuses the whole policy (Unknown key "${key}"), so every pull fails`, 'remove it or correct its spelling (containers-policy.json(5))');
        }
      }
    } else if (issue.code === 'invalid_type' && segs.length === 1 && segs[0] === 'default' && doc.default === undefined) {
      add([], 'error', 'missing-default', 'no "default": the library refuses the policy (Default policy is missing)', 'add "default": [{"type": "reject"}]');
    } else if (issue.code === 'invalid_union' && (issue as { discriminator?: string }).discriminator === 'type') {
      const identity = ['signedIdentity', 'baseLayerIdentity'].includes(String(segs.at(-2)));
      const options = ((issue as { options?: string[] }).options ?? []).join(', ');
      add(segs, 'error', identity ? 'unknown-identity-type' : 'unknown-requirement-type', `unknown ${identity ? 'identity' : 'requirement'} type ${JSON.stringify(valueAt(segs))}; the library refuses the whole policy`, `use one of ${options}`);
    } else if (issue.code === 'custom' && issue.params?.finding) {
      add(segs, 'error', String(issue.params.finding), `${issue.message}; the library refuses the whole policy`, 'keep exactly one key source (keyPath, keyPaths, …) and at most one rekorPublicKey*');
    } else {
      add(segs, 'error', 'invalid-policy', `${issue.message}; the library refuses the whole policy`, 'see containers-policy.json(5) for the shape of this field');
    }
  }
}

/** An object whose values are all arrays: a scope table, wherever it was put. */
const isScopeTable = (v: unknown): boolean => isObject(v) && Object.keys(v).length > 0 && Object.values(v).every(Array.isArray);

/** The default and every scope's requirement list, including scope tables missing their wrapper. */
function requirementSites(doc: Record<string, unknown>): Site[] {
  const sites: Site[] = Array.isArray(doc.default) ? [{ segs: ['default'], raw: doc.default }] : [];
  const tables: [PathSegment[], string, unknown][] = isObject(doc.transports) ? Object.entries(doc.transports).map(([t, v]) => [['transports', t], t, v]) : [];
  for (const [k, v] of Object.entries(doc)) if (k !== 'default' && k !== 'transports' && (TRANSPORTS.includes(k) || isScopeTable(v))) tables.push([[k], k, v]);
  for (const [segs, transport, table] of tables) {
    if (!isObject(table)) continue;
    for (const [scope, reqs] of Object.entries(table)) if (Array.isArray(reqs)) sites.push({ segs: [...segs, scope], transport, scope, raw: reqs, misplaced: segs[0] !== 'transports' });
  }
  return sites;
}

/** The default and docker scopes: can they match at all, and will CRI-O find cosign signatures for them. */
function scopeFindings(site: Site, rd: RegistriesD, add: Add): void {
  const parsed: ParsedScope = site.scope === undefined ? { kind: 'transport-default' } : parseScope(site.scope);
  if (parsed.kind === 'never-matches') add(site.segs, 'error', 'scope-never-matches', `the scope "${site.scope}" can never match an image: ${parsed.why}; the library accepts it silently`, parsed.fix);
  const sigstore = site.raw.filter((r) => typeOf(r) === 'sigstoreSigned').length;
  if (sigstore > 1) {
    add(site.segs, 'warning', 'all-requirements-must-hold', `${sigstore} sigstoreSigned requirements in one scope must ALL hold: an image needs a signature from each key`, 'for "any of these keys" use one requirement with "keyPaths": [...] (or "keyDatas")');
  }
  if (sigstore && parsed.kind !== 'never-matches') attachmentFinding(site.segs, parsed, rd, add);
}

/** A sigstoreSigned scope whose registry has no use-sigstore-attachments: cosign's .sig is never fetched. */
function attachmentFinding(segs: PathSegment[], parsed: ParsedScope, rd: RegistriesD, add: Add): void {
  const chain = scopeChain(parsed);
  const found = attachmentsFor(rd, chain);
  if (found.enabled) return;
  const shadow = rd.shadowed ? ` (CRI-O reads ${rd.dir}, which hides ${rd.shadowed})` : '';
  const key = chain[0];
  const why = found.entry ? `${found.entry.file} sets use-sigstore-attachments: false for "${found.entry.key}"` : `no file in ${rd.dir} enables use-sigstore-attachments for it`;
  if (key === undefined) {
    // The default (or transports.docker[""]) covers registries that registries.d may enable one by one.
    const some = [...rd.docker.values()].some((e) => e.useSigstoreAttachments);
    add(segs, some ? 'warning' : 'error', 'no-sigstore-attachments', `this requirement needs cosign signatures, but default-docker does not enable use-sigstore-attachments${some ? ': images from registries not listed in registries.d are always rejected' : ' and no namespace does: no cosign signature can ever be found'}${shadow}`, `add "default-docker: {use-sigstore-attachments: true}" to a .yaml file in ${rd.dir}`);
    return;
  }
  add(segs, 'error', 'no-sigstore-attachments', `CRI-O will not look for cosign signatures (sha256-<digest>.sig) for "${key}": ${why}${shadow}; every image it decides is rejected ("A signature was required, but no signature exists")`, `add 'docker: {"${key}": {use-sigstore-attachments: true}}' to a .yaml file in ${rd.dir}`);
}

async function requirementFindings(req: PolicyRequirement, segs: PathSegment[], site: Site, ctx: Context, pending: PendingFile[], add: Add, notes: string[]): Promise<void> {
  if (req.type === 'signedBy') {
    for (const [p, at] of keyPathsOf(req.keyPath, req.keyPaths, segs, 'keyPath', 'keyPaths')) await keyFileFindings(p, at, false, ctx, pending, add, notes);
  }
  if (req.type !== 'sigstoreSigned') return;
  for (const [p, at] of [...keyPathsOf(req.keyPath, req.keyPaths, segs, 'keyPath', 'keyPaths'), ...keyPathsOf(req.rekorPublicKeyPath, req.rekorPublicKeyPaths, segs, 'rekorPublicKeyPath', 'rekorPublicKeyPaths')]) {
    await keyFileFindings(p, at, true, ctx, pending, add, notes);
  }
  const keyOnly = req.keyPath ?? req.keyPaths ?? req.keyData ?? req.keyDatas;
  const rekor = (['rekorPublicKeyPath', 'rekorPublicKeyPaths', 'rekorPublicKeyData', 'rekorPublicKeyDatas'] as const).find((k) => req[k] !== undefined);
  if (keyOnly && rekor) {
    add([...segs, rekor], 'warning', 'rekor-required', `with ${rekor}, every signature must carry a Rekor inclusion proof; key-only signing (cosign --tlog-upload=false) is then rejected`, `remove ${rekor} if images are signed without the transparency log`);
  }
  // Identity rules only mean something for registry references, which is what CRI-O pulls.
  if (site.transport !== undefined && site.transport !== 'docker') return;
  const identity = req.signedIdentity?.type ?? 'matchRepoDigestOrExact (the default)';
  if (req.signedIdentity?.type === 'matchRepository' || req.signedIdentity?.type === 'exactRepository') return;
  add(
    req.signedIdentity ? [...segs, 'signedIdentity'] : segs,
    'error',
    'identity-rejects-tags',
    `signedIdentity ${identity} compares the signature's reference with the pulled one; cosign signs the repository only, so every pull by tag is rejected${identity.startsWith('matchRepoDigestOrExact') || identity === 'remapIdentity' ? ' (pulls by digest still pass)' : ''}`,
    'add "signedIdentity": {"type": "matchRepository"}',
  );
}

const keyPathsOf = (one: string | undefined, many: string[] | undefined, segs: PathSegment[], oneKey: string, manyKey: string): [string, PathSegment[]][] => [
  ...(one !== undefined ? [[one, [...segs, oneKey]] as [string, PathSegment[]]] : []),
  ...(many ?? []).map((p, j) => [p, [...segs, manyKey, j]] as [string, PathSegment[]]),
];

/** A key file must exist where CRI-O reads it; a sigstore key must be a public key (not cosign.key). */
async function keyFileFindings(p: string, segs: PathSegment[], publicKey: boolean, ctx: Context, pending: PendingFile[], add: Add, notes: string[]): Promise<void> {
  if (!path.isAbsolute(p)) {
    add(segs, 'warning', 'key-path-relative', `"${p}" is relative: CRI-O resolves it against its own working directory`, 'use an absolute path');
    return;
  }
  const planned = pending.find((f) => f.path === p);
  let content: string | Buffer | undefined = planned?.content;
  if (!planned) {
    try {
      content = await fs.readFile(ctx.sys(p));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES') notes.push(`cannot read ${p} to check it (permission denied): run as root`);
      else add(segs, 'error', 'key-file-missing', `${p} does not exist${ctx.opts.root === '/' ? '' : ` under ${ctx.opts.root}`}: every image this requirement decides is rejected`, `install the public key at ${p} (crio-sigpoc install-policy puts the lab's at ${SYSTEM_PATHS.publicKey}), or correct the path`);
      return;
    }
  }
  if (!publicKey || content === undefined) return;
  try {
    createPublicKey(content);
  } catch {
    const privateKey = content.toString().includes('PRIVATE KEY');
    add(segs, 'error', 'key-file-not-public-key', `${p} is not a PEM public key${privateKey ? ': it is a private key (cosign.key instead of cosign.pub?)' : ''}`, 'point it at the public key, e.g. cosign.pub');
  }
}

/** keyPaths and friends where the installed CRI-O's containers/image is too old to parse them. */
async function libraryFindings(sites: Site[], ctx: Context, add: Add, notes: string[]): Promise<void> {
  const uses: [PathSegment[], string][] = [];
  for (const site of sites) {
    for (const [i, r] of site.raw.entries()) {
      if (typeOf(r) !== 'sigstoreSigned' || !isObject(r)) continue;
      for (const field of Object.keys(r)) if (SIGSTORE_FIELD_MIN_VERSION[field]) uses.push([[...site.segs, i, field], field]);
    }
  }
  if (!uses.length) return;
  const lib = await crioImageLibrary(ctx);
  if ('unknown' in lib) {
    notes.push(`${[...new Set(uses.map(([, f]) => f))].join(', ')} not checked against the installed CRI-O: ${lib.unknown} (keyPaths and keyDatas need containers/image ≥ v${SIGSTORE_FIELD_MIN_VERSION.keyPaths}, CRI-O ≥ 1.31)`);
    return;
  }
  for (const [segs, field] of uses) {
    const min = SIGSTORE_FIELD_MIN_VERSION[field];
    if (versionAtLeast(lib.version, min)) continue;
    add(segs, 'error', 'library-too-old', `${field} needs containers/image ≥ v${min}; this CRI-O is built with ${lib.module} v${lib.version}, which refuses the whole policy (Unknown key "${field}")`, `upgrade CRI-O (keyPaths/keyDatas: ≥ 1.31, pki: ≥ 1.33), or use a single keyPath`);
  }
}

/** Every pod sandbox starts from the pause image: a policy that rejects it breaks every pod. */
async function pauseFindings(doc: Record<string, unknown>, ctx: Context, add: Add, notes: string[]): Promise<void> {
  const pause = (await readCrioConfig(ctx.opts.root)).pauseImage;
  let ref;
  try {
    ref = normaliseImage(pause.value);
  } catch (e) {
    notes.push(`pause image ${pause.value} not checked: ${(e as Error).message}`);
    return;
  }
  const docker = isObject(doc.transports) && isObject(doc.transports.docker) ? doc.transports.docker : {};
  const scope = decidingScope(docker, ref);
  const reqs = scope === undefined ? doc.default : docker[scope];
  if (!Array.isArray(reqs) || !reqs.some((r) => typeOf(r) === 'reject')) return;
  const segs = scope === undefined ? ['default'] : ['transports', 'docker', scope];
  add(
    segs,
    'error',
    'pause-image-rejected',
    `${jsonPath(segs)} rejects the pause image ${pause.value} (pause_image, ${pause.source}); CRI-O creates every pod sandbox from it, so no pod can start`,
    `add "${pauseScope(pause.value, registryAddress)}": [{"type": "insecureAcceptAnything"}] under "transports": {"docker": …}`,
  );
}

/** Lints the policy CRI-O reads (or `policyFile`), with the registries.d it reads (or `registriesD`). */
export async function lintPolicy(ctx: Context, opts: { policy?: string; registriesD?: string } = {}): Promise<LintResult> {
  const crio = await readCrioConfig(ctx.opts.root);
  const file = opts.policy ? path.resolve(opts.policy) : crio.effectivePolicyPath;
  const registriesD = opts.registriesD ? path.resolve(opts.registriesD) : undefined;
  let text: string;
  try {
    text = await fs.readFile(opts.policy ? file : ctx.sys(file), 'utf8');
  } catch (e) {
    const rd = await readRegistriesD(ctx, { dir: registriesD });
    const decided = crio.signaturePolicy.source === 'default' ? 'the library default' : `signature_policy in ${crio.signaturePolicy.source}`;
    const message = opts.policy ? `cannot read ${file}: ${(e as Error).message}` : `CRI-O reads its policy from ${file} (${decided}), which cannot be read (${(e as NodeJS.ErrnoException).code}): every pull fails`;
    const finding: Finding = { file, jsonPath: '$', severity: 'error', code: 'policy-unreadable', message, fix: opts.policy ? 'pass an existing policy.json' : 'crio-sigpoc install-policy' };
    return { policy: file, registriesD: rd.dir, findings: [finding, ...rd.findings], notes: rd.notes };
  }
  const result = await lintPolicyText(text, file, ctx, { registriesD });
  if (!opts.policy) result.notes.unshift(`${file} is the policy CRI-O reads (${crio.signaturePolicy.source === 'default' ? 'library default: signature_policy is not set' : `signature_policy in ${crio.signaturePolicy.source}`})`);
  return result;
}

/**
 * For install-policy: lints once per run against the files about to be installed, prints the
 * warnings, and refuses (exit 2) a policy whose own findings include errors.
 */
export async function refusePolicyErrors(text: string, file: string, ctx: Context, pending: PendingFile[]): Promise<void> {
  const result = await ctx.memo(`policy-lint:${file}`, async () => {
    const r = await lintPolicyText(text, file, ctx, { pending });
    for (const f of r.findings) if (f.severity === 'warning' && f.file === file) ctx.log.warn(findingText(f).trimEnd());
    return r;
  });
  const errors = result.findings.filter((f) => f.file === file);
  if (hasErrors(errors)) {
    const listing = errors.filter((f) => f.severity === 'error').map(findingText).join('');
    throw new UsageError(`${file}: the policy has errors; nothing was installed:\n${listing}`, `fix them and check with: crio-sigpoc policy lint ${file}`);
  }
}
