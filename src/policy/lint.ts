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
import { decodePolicy } from './library-policy.js';
import { notRegular, readPolicyBytes } from './read-policy.js';
import { crioImageLibrary, SIGSTORE_FIELD_MIN_VERSION, versionAtLeast } from './library-version.js';
import type { PendingFile, RegistriesD } from './registries-d.js';
import { attachmentsFor, readRegistriesD } from './registries-d.js';
import type { ParsedScope } from './scope.js';
import { decidingScope, normaliseImage, parseScope, scopeChain } from './scope.js';
import { limitNotes } from './limits.js';

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

export async function lintPolicyText(text: string | Buffer, file: string, ctx: Context, opts: LintOptions = {}): Promise<LintResult> {
  const rd = await readRegistriesD(ctx, { dir: opts.registriesD, pending: opts.pending });
  const result: LintResult = { policy: file, registriesD: rd.dir, findings: [], notes: [...rd.notes] };
  const done = (): LintResult => {
    result.findings.push(...rd.findings);
    result.findings.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? Infinity) - (b.line ?? Infinity) || a.code.localeCompare(b.code));
    return result;
  };
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const src = parseJsonSource(bytes, file);
  if (!('value' in src)) {
    result.findings.push(src);
    return done();
  }
  const add: Add = (segs, severity, code, message, fix) => result.findings.push({ file, jsonPath: jsonPath(segs), severity, code, message, fix, ...src.position(segs) });
  const decided = decodePolicy(bytes);
  const doc = src.value;
  if (!decided.ok) {
    // The library stops at its first reason; the friendlier findings below name every mistake.
    result.findings.push(...src.duplicates);
    if (!isObject(doc)) add([], 'error', 'invalid-policy', 'the policy must be a JSON object with "default" and "transports"', 'start from the policy crio-sigpoc renders (config/policy.json)');
    else schemaFindings(policySchema.safeParse(doc).error?.issues ?? [], [], doc, add);
    quoteRefusal(result.findings, file, decided.refusal, src.at(decided.refusal.offset), add);
  }
  if (!isObject(doc)) return done();
  const sites = requirementSites(doc);
  const accepted = decided.ok ? decided.policy : undefined;
  for (const site of sites) {
    if (site.transport === undefined || site.transport === 'docker') scopeFindings(site, rd, add, accepted !== undefined);
    const canonical = accepted && !site.misplaced ? (site.transport === undefined ? accepted.default : accepted.transports[site.transport]?.[site.scope!]) : undefined;
    for (const [i, raw] of site.raw.entries()) {
      const req = canonical ? { success: true as const, data: canonical[i] as unknown as PolicyRequirement } : requirementSchema.safeParse(raw);
      if (req.success) await requirementFindings(req.data, raw, [...site.segs, i], site, ctx, opts.pending ?? [], add, result.notes);
      // The policy schema stops at a misplaced table's name; its requirements are checked here.
      else if (site.misplaced && !decided.ok) schemaFindings(req.error.issues, [...site.segs, i], doc, add);
    }
  }
  await libraryFindings(sites, ctx, add, result.notes);
  result.notes.push(...limitNotes(doc));
  if (Array.isArray(doc.default)) {
    if (doc.default.some((r) => typeOf(r) === 'insecureAcceptAnything')) {
      add(['default'], 'warning', 'default-accepts-anything', 'the default accepts every image without a signature: only the scopes you list are verified', 'make the default [{"type": "reject"}] and list each registry you trust');
    }
    await pauseFindings(doc, ctx, add, result.notes);
  }
  return done();
}

/** The library's own reason, quoted in the finding that stands for it (same place), or in one of its own. */
function quoteRefusal(findings: Finding[], file: string, refusal: { message: string; segs: PathSegment[] }, at: { line: number; column: number }, add: Add): void {
  const where = jsonPath(refusal.segs);
  const quote = `the library refuses the whole policy at ${file}:${at.line}:${at.column} ("${refusal.message}")`;
  const same = findings.find((f) => f.file === file && f.severity === 'error' && f.jsonPath === where) ?? findings.find((f) => f.file === file && f.severity === 'error' && (where.startsWith(f.jsonPath) || f.jsonPath.startsWith(where)) && f.jsonPath !== '$');
  if (same) {
    same.message = `${same.message}; ${quote}`;
    return;
  }
  const scopeKey = /^Unknown key /.test(refusal.message) && refusal.segs.length === 3 && refusal.segs[0] === 'transports';
  const code = scopeKey ? 'scope-invalid-for-transport' : 'library-refuses';
  const why = scopeKey ? `"${refusal.segs[2]}" is not a valid scope for the ${refusal.segs[1]} transport, so the library does not know the key; ` : '';
  add(refusal.segs, 'error', code, `${why}${quote}, so every pull fails`, scopeKey ? `write a scope the ${refusal.segs[1]} transport accepts (containers-policy.json(5)), or remove it` : 'see containers-policy.json(5) for this field');
  const last = findings.at(-1)!;
  Object.assign(last, at);
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
function scopeFindings(site: Site, rd: RegistriesD, add: Add, accepted: boolean): void {
  const parsed: ParsedScope = site.scope === undefined ? { kind: 'transport-default' } : parseScope(site.scope);
  if (parsed.kind === 'never-matches') add(site.segs, 'error', 'scope-never-matches', `the scope "${site.scope}" can never match an image: ${parsed.why}; the library accepts it silently`, parsed.fix);
  const sigstore = site.raw.filter((r) => typeOf(r) === 'sigstoreSigned').length;
  if (sigstore > 1) {
    add(site.segs, 'warning', 'all-requirements-must-hold', `${sigstore} sigstoreSigned requirements in one scope must ALL hold: an image needs a signature from each key`, 'for "any of these keys" use one requirement with "keyPaths": [...] (or "keyDatas")');
  }
  // Without a readable registries.d every pull fails anyway, and that is said once, there.
  if (sigstore && parsed.kind !== 'never-matches' && !rd.refusal) attachmentFinding(site.segs, parsed, rd, add, accepted);
}

/** Namespaces in registries.d below a scope (more specific keys that images it decides can hit first). */
function namespacesUnder(rd: RegistriesD, parsed: ParsedScope): string[] {
  const keys = [...rd.docker.keys()];
  switch (parsed.kind) {
    case 'transport-default':
      return keys;
    case 'host':
      return keys.filter((k) => k.startsWith(`${parsed.domain}/`));
    case 'wildcard':
      return keys.filter((k) => k.split('/')[0].replace(/:.*$/, '').endsWith(`.${parsed.domain}`) && !k.startsWith('*.'));
    case 'reference':
      return parsed.ref.tag || parsed.ref.digest ? [] : keys.filter((k) => k.startsWith(`${parsed.ref.name}/`) || k.startsWith(`${parsed.ref.name}:`) || k.startsWith(`${parsed.ref.name}@`));
    default:
      return [];
  }
}

/** A sigstoreSigned scope whose registry has no use-sigstore-attachments: cosign's .sig is never fetched. */
function attachmentFinding(segs: PathSegment[], parsed: ParsedScope, rd: RegistriesD, add: Add, accepted: boolean): void {
  const chain = scopeChain(parsed);
  const found = attachmentsFor(rd, chain);
  if (found.enabled) return;
  const shadow = rd.shadowed ? ` (CRI-O reads ${rd.dir}, which hides ${rd.shadowed})` : '';
  const key = chain[0];
  const why = found.entry ? `${found.entry.file} sets use-sigstore-attachments: false for "${found.entry.key}"` : `no file in ${rd.dir} enables use-sigstore-attachments for it`;
  const accepts = accepted ? 'the library accepts the policy, but ' : '';
  // Images in a more specific namespace that turns attachments on are looked up with them.
  const on = namespacesUnder(rd, parsed).filter((k) => attachmentsFor(rd, scopeChain(parseScope(k))).enabled);
  const fix = key === undefined ? `add "default-docker: {use-sigstore-attachments: true}" to a .yaml file in ${rd.dir}` : `add 'docker: {"${key}": {use-sigstore-attachments: true}}' to a .yaml file in ${rd.dir}`;
  if (on.length) {
    const where = key === undefined ? 'default-docker does not enable use-sigstore-attachments' : `CRI-O will not look for cosign signatures (sha256-<digest>.sig) for "${key}": ${why}`;
    add(segs, 'warning', 'no-sigstore-attachments', `this requirement needs cosign signatures, but ${where}${shadow}: only images under ${on.map((k) => `"${k}"`).join(', ')} (where registries.d turns attachments on) can be accepted; every other image it decides is rejected ("A signature was required, but no signature exists")`, fix);
    return;
  }
  if (key === undefined) {
    add(segs, 'error', 'no-sigstore-attachments', `${accepts}this requirement needs cosign signatures, and neither default-docker nor any namespace enables use-sigstore-attachments${shadow}: no cosign signature can ever be found, so every image it decides is rejected`, fix);
    return;
  }
  add(segs, 'error', 'no-sigstore-attachments', `${accepts}CRI-O will not look for cosign signatures (sha256-<digest>.sig) for "${key}": ${why}${shadow}; every image it decides is rejected ("A signature was required, but no signature exists")`, fix);
}

async function requirementFindings(req: PolicyRequirement, raw: unknown, segs: PathSegment[], site: Site, ctx: Context, pending: PendingFile[], add: Add, notes: string[]): Promise<void> {
  if (req.type === 'signedBaseLayer') {
    add(segs, 'error', 'not-implemented', 'the library accepts signedBaseLayer, but does not implement it: every image this requirement decides is rejected', 'use sigstoreSigned (cosign) or signedBy (GPG)');
  }
  if (req.type === 'signedBy') {
    const keyType = (req as { keyType: string }).keyType;
    if (keyType !== 'GPGKeys') {
      add([...segs, 'keyType'], 'error', 'key-type-not-implemented', `the library accepts keyType ${keyType}, but does not implement it when it verifies (Unimplemented "keyType" value "${keyType}"): every image this requirement decides is rejected`, 'use "keyType": "GPGKeys", or sigstoreSigned for cosign keys');
    }
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
  const written = isObject(raw) && raw.signedIdentity !== undefined;
  const type = req.signedIdentity?.type ?? 'matchRepoDigestOrExact';
  if (type === 'matchRepository' || type === 'exactRepository') return;
  const identity = written ? type : `${type} (the default)`;
  const at = written ? [...segs, 'signedIdentity'] : segs;
  const fix = 'add "signedIdentity": {"type": "matchRepository"}';
  if (type === 'matchExact' || type === 'exactReference') {
    add(at, 'error', 'identity-rejects-tags', `the library accepts signedIdentity ${identity}, but it compares the signature's reference with the pulled one, tag or digest included; cosign signs the repository only, so no cosign signature ever matches, by tag or by digest`, fix);
    return;
  }
  // matchRepoDigestOrExact and remapIdentity: pulls by digest pass, pulls by tag are rejected.
  const scope = site.scope === undefined ? undefined : parseScope(site.scope);
  if (scope?.kind === 'reference' && scope.ref.digest) return;
  add(at, 'error', 'identity-rejects-tags', `the library accepts signedIdentity ${identity}, but it compares the signature's reference with the pulled one; cosign signs the repository only, so every pull by tag is rejected (pulls by digest still pass)`, fix);
}

const keyPathsOf = (one: string | undefined, many: string[] | undefined, segs: PathSegment[], oneKey: string, manyKey: string): [string, PathSegment[]][] => [
  ...(one !== undefined ? [[one, [...segs, oneKey]] as [string, PathSegment[]]] : []),
  ...(many ?? []).map((p, j) => [p, [...segs, manyKey, j]] as [string, PathSegment[]]),
];

/** A key file must exist where CRI-O reads it, as a regular file; a sigstore key must be a public key (not cosign.key). */
async function keyFileFindings(p: string, segs: PathSegment[], publicKey: boolean, ctx: Context, pending: PendingFile[], add: Add, notes: string[]): Promise<void> {
  if (!path.isAbsolute(p)) {
    add(segs, 'warning', 'key-path-relative', `"${p}" is relative: CRI-O resolves it against its own working directory`, 'use an absolute path');
    return;
  }
  const planned = pending.find((f) => f.path === p);
  let content: string | Buffer | undefined = planned?.content;
  if (!planned) {
    const st = await fs.stat(ctx.sys(p)).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error) {
      if (st.code === 'EACCES') notes.push(`cannot read ${p} to check it (permission denied): run as root`);
      else add(segs, 'error', 'key-file-missing', `${p} does not exist${ctx.opts.root === '/' ? '' : ` under ${ctx.opts.root}`}: the library accepts the policy, but every image this requirement decides is rejected`, `install the public key at ${p} (crio-sigpoc install-policy puts the lab's at ${SYSTEM_PATHS.publicKey}), or correct the path`);
      return;
    }
    const why = notRegular(st);
    if (why) {
      const hang = st.isFIFO() ? ': the library opens it when it verifies and waits for a writer, so those pulls hang' : '';
      add(segs, 'error', 'key-file-not-regular', `${p} is ${why}, not a regular file${hang}; the library accepts the policy, but no image this requirement decides can be verified`, `put the public key at ${p} as a regular file`);
      return;
    }
    try {
      content = await readPolicyBytes(ctx.sys(p));
    } catch (e) {
      add(segs, 'error', 'key-file-not-regular', `${(e as Error).message}; the library accepts the policy, but no image this requirement decides can be verified`, `put the public key at ${p} as a regular file`);
      return;
    }
  }
  if (!publicKey || content === undefined) return;
  try {
    createPublicKey(content);
  } catch {
    const privateKey = content.toString().includes('PRIVATE KEY');
    add(segs, 'error', 'key-file-not-public-key', `${p} is not a PEM public key${privateKey ? ': it is a private key (cosign.key instead of cosign.pub?)' : ''}; the library accepts the policy, but every image this requirement decides is rejected`, 'point it at the public key, e.g. cosign.pub');
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
    `${jsonPath(segs)} rejects the pause image ${pause.value} (pause_image, ${pause.source}); the library accepts the policy, but CRI-O creates every pod sandbox from it, so no pod can start`,
    `add "${pauseScope(pause.value, registryAddress)}": [{"type": "insecureAcceptAnything"}] under "transports": {"docker": …}`,
  );
}

/** Lints the policy CRI-O reads (or `policyFile`), with the registries.d it reads (or `registriesD`). */
export async function lintPolicy(ctx: Context, opts: { policy?: string; registriesD?: string } = {}): Promise<LintResult> {
  const crio = await readCrioConfig(ctx.opts.root);
  const file = opts.policy ? path.resolve(opts.policy) : crio.effectivePolicyPath;
  const registriesD = opts.registriesD ? path.resolve(opts.registriesD) : undefined;
  let text: Buffer;
  try {
    text = await readPolicyBytes(opts.policy ? file : ctx.sys(file));
  } catch (e) {
    const rd = await readRegistriesD(ctx, { dir: registriesD });
    const decided = crio.signaturePolicy.source === 'default' ? 'the library default' : `signature_policy in ${crio.signaturePolicy.source}`;
    const message = opts.policy ? `cannot read ${file}: ${(e as Error).message}` : `CRI-O reads its policy from ${file} (${decided}), which cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): every pull fails`;
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
