// registries.d (containers-registries.d(5)) as containers/image reads it (docker/registries_d.go):
// every *.yaml file of ONE directory, ~/.config/containers/registries.d winning over /etc when it
// exists, a namespace or default-docker defined in two files refusing the whole configuration.
// Lookups walk the same keys as the policy (scope.ts) and end at default-docker.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Document } from 'yaml';
import { isMap, isScalar, parseDocument } from 'yaml';
import type { Context } from '../core/context.js';
import { SYSTEM_PATHS } from '../core/settings.js';
import type { Finding, PathSegment } from './finding.js';
import { jsonPath, lineColumn } from './finding.js';
import { parseScope, scopeChain } from './scope.js';

/** CRI-O runs as root; the library takes the user directory from root's home (homedir.Get). */
export const USER_REGISTRIES_D = '/root/.config/containers/registries.d';
/** Where the library reads lookaside signatures when nothing is configured and it runs as root. */
export const DEFAULT_LOOKASIDE = 'file:///var/lib/containers/sigstore';

/** A file about to be installed: lints see it as if it were already there. */
export interface PendingFile {
  path: string;
  content?: string | Buffer;
}

export interface NamespaceEntry {
  file: string;
  /** The docker namespace, or 'default-docker'. */
  key: string;
  jsonPath: string;
  useSigstoreAttachments?: boolean;
  lookaside?: string;
  sigstore?: string;
  /** Where the `sigstore:` key is, to point at it. */
  sigstoreAt?: { line?: number; column?: number };
}

export interface RegistriesD {
  /** The directory used, as CRI-O names it (or as the user gave it). */
  dir: string;
  /** /etc/containers/registries.d when the user directory hides it. */
  shadowed?: string;
  defaultDocker?: NamespaceEntry;
  docker: Map<string, NamespaceEntry>;
  findings: Finding[];
  notes: string[];
}

const STRING_KEYS = ['lookaside', 'lookaside-staging', 'sigstore', 'sigstore-staging'];
// yaml.v3 decodes these YAML 1.1 spellings into a bool field; anything else there fails to load.
const YAML_TRUE = ['true', 'True', 'TRUE', 'y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'];
const YAML_FALSE = ['false', 'False', 'FALSE', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'];

/** 'unknown' when the directory cannot be looked at (root's home, read by a normal user). */
const presence = (p: string): Promise<'yes' | 'no' | 'unknown'> =>
  fs.stat(p).then(
    () => 'yes',
    (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? 'no' : 'unknown'),
  );

/** Reads the registries.d CRI-O uses (or `dir`), with files about to be installed laid over it. */
export async function readRegistriesD(ctx: Context, opts: { dir?: string; pending?: PendingFile[] } = {}): Promise<RegistriesD> {
  const rd: RegistriesD = { dir: opts.dir ?? SYSTEM_PATHS.registriesD, docker: new Map(), findings: [], notes: [] };
  let real = opts.dir ?? ctx.sys(SYSTEM_PATHS.registriesD);
  const user = opts.dir ? 'no' : await presence(ctx.sys(USER_REGISTRIES_D));
  if (user === 'unknown') rd.notes.push(`cannot tell whether ${USER_REGISTRIES_D} exists (it would hide ${rd.dir}): run as root to know`);
  if (user === 'yes') {
    rd.shadowed = rd.dir;
    rd.dir = USER_REGISTRIES_D;
    real = ctx.sys(USER_REGISTRIES_D);
    rd.findings.push({
      file: USER_REGISTRIES_D,
      jsonPath: '$',
      severity: 'warning',
      code: 'registries-d-shadowed',
      message: `${USER_REGISTRIES_D} exists, so CRI-O (running as root) reads it and ignores ${SYSTEM_PATHS.registriesD} entirely`,
      fix: `move its files into ${SYSTEM_PATHS.registriesD} and remove ${USER_REGISTRIES_D}`,
    });
  }
  const texts = new Map<string, string>();
  for (const name of await fs.readdir(real).catch(() => [] as string[])) texts.set(name, await fs.readFile(path.join(real, name), 'utf8').catch(() => ''));
  for (const p of opts.pending ?? []) {
    if (!opts.dir && path.dirname(p.path) === rd.dir && p.content !== undefined) texts.set(path.basename(p.path), p.content.toString());
  }
  for (const name of [...texts.keys()].sort()) {
    const file = path.join(rd.dir, name);
    if (name.endsWith('.yml')) {
      rd.findings.push({ file, jsonPath: '$', severity: 'warning', code: 'registries-d-ignored-file', message: 'the library reads only files ending in .yaml; this one is ignored', fix: `rename it to ${name.replace(/\.yml$/, '.yaml')}` });
    }
    if (name.endsWith('.yaml')) readFile(rd, file, texts.get(name)!);
  }
  flagSigstoreKeys(rd);
  return rd;
}

function readFile(rd: RegistriesD, file: string, text: string): void {
  const doc = parseDocument(text);
  const at = (segs: PathSegment[]): { line?: number; column?: number } => keyPosition(doc, text, segs);
  const finding: Report = (segs, severity, code, message, fix) => {
    rd.findings.push({ file, jsonPath: jsonPath(segs), severity, code, message, fix, ...at(segs) });
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    const [line, column] = [e.linePos?.[0].line, e.linePos?.[0].col];
    rd.findings.push({ file, jsonPath: '$', severity: 'error', code: 'registries-d-invalid', message: `not valid YAML: ${e.message.split('\n')[0].replace(/:$/, '')}; the library refuses the whole directory, so every pull fails`, fix: `fix ${file}${line ? ` at line ${line}` : ''}`, line, column });
    return;
  }
  const top: unknown = doc.toJS() ?? {};
  if (!isObject(top)) return finding([], 'error', 'registries-d-invalid', 'the document is not a mapping; the library refuses the whole directory', 'write "docker:" and/or "default-docker:" mappings');
  for (const key of Object.keys(top)) {
    if (key !== 'docker' && key !== 'default-docker') finding([key], 'warning', 'registries-d-unknown-key', `"${key}" is not a registries.d key; the library ignores it`, 'use "docker:" (per namespace) or "default-docker:"');
  }
  if (top['default-docker'] != null) {
    const entry = namespaceEntry(top['default-docker'], ['default-docker'], 'default-docker', file, finding, at);
    if (rd.defaultDocker) finding(['default-docker'], 'error', 'registries-d-duplicate', `"default-docker" is also defined in ${rd.defaultDocker.file}; the library refuses the whole directory, so every pull fails`, 'keep default-docker in one file');
    else if (entry) rd.defaultDocker = entry;
  }
  if (top.docker == null) return;
  if (!isObject(top.docker)) return finding(['docker'], 'error', 'registries-d-invalid', '"docker" must map namespaces to their settings', 'write "docker:" followed by indented namespaces');
  for (const [ns, value] of Object.entries(top.docker)) {
    const segs = ['docker', ns];
    const scope = parseScope(ns);
    if (scope.kind === 'never-matches') finding(segs, 'warning', 'registries-d-scope-never-matches', `the namespace "${ns}" can never match: ${scope.why}`, scope.fix);
    const entry = namespaceEntry(value ?? {}, segs, ns, file, finding, at);
    const earlier = rd.docker.get(ns);
    if (earlier) finding(segs, 'error', 'registries-d-duplicate', `the namespace "${ns}" is also defined in ${earlier.file}; the library refuses the whole directory, so every pull fails`, `keep "${ns}" in one file`);
    else if (entry) rd.docker.set(ns, entry);
  }
}

type Report = (segs: PathSegment[], severity: Finding['severity'], code: string, message: string, fix: string) => void;

function namespaceEntry(value: unknown, segs: string[], key: string, file: string, finding: Report, at: (segs: PathSegment[]) => { line?: number; column?: number }): NamespaceEntry | undefined {
  if (!isObject(value)) {
    finding(segs, 'error', 'registries-d-invalid', `"${key}" must be a mapping of settings; the library refuses the whole directory`, 'give it keys such as "use-sigstore-attachments: true"');
    return undefined;
  }
  const entry: NamespaceEntry = { file, key, jsonPath: jsonPath(segs) };
  for (const [k, v] of Object.entries(value)) {
    if (k === 'use-sigstore-attachments') {
      const b = typeof v === 'boolean' ? v : YAML_TRUE.includes(String(v)) ? true : YAML_FALSE.includes(String(v)) ? false : undefined;
      if (b === undefined) finding([...segs, k], 'error', 'registries-d-invalid', `use-sigstore-attachments must be true or false, not ${JSON.stringify(v)}; the library refuses the whole directory`, 'write "use-sigstore-attachments: true"');
      entry.useSigstoreAttachments = b;
    } else if (STRING_KEYS.includes(k)) {
      if (typeof v !== 'string') finding([...segs, k], 'error', 'registries-d-invalid', `${k} must be a URL string`, `write "${k}: https://…" or "file:///…"`);
      else if (k === 'lookaside') entry.lookaside = v;
      else if (k === 'sigstore') [entry.sigstore, entry.sigstoreAt] = [v, at([...segs, k])];
    } else {
      finding([...segs, k], 'warning', 'registries-d-unknown-key', `"${k}" is not a registries.d setting; the library ignores it`, `use one of use-sigstore-attachments, ${STRING_KEYS.join(', ')}`);
    }
  }
  return entry;
}

/** `sigstore:` is the deprecated name of `lookaside` (GPG signatures on a web server), not Sigstore. */
function flagSigstoreKeys(rd: RegistriesD): void {
  for (const entry of [...rd.docker.values(), ...(rd.defaultDocker ? [rd.defaultDocker] : [])]) {
    if (entry.sigstore === undefined) continue;
    const chain = entry.key === 'default-docker' ? [] : scopeChain(parseScope(entry.key));
    const attachments = attachmentsFor(rd, chain).enabled;
    rd.findings.push({
      file: entry.file,
      jsonPath: `${entry.jsonPath}.sigstore`,
      severity: attachments ? 'warning' : 'error',
      code: 'sigstore-key-is-lookaside',
      message: `"sigstore: ${entry.sigstore}" is the old name of "lookaside", a store of GPG simple-signing signatures; it does not make the library fetch cosign signatures${attachments ? ' (use-sigstore-attachments is enabled here anyway)' : ', so every cosign-signed image is rejected with "A signature was required, but no signature exists"'}`,
      fix: `replace "sigstore: ${entry.sigstore}" with "use-sigstore-attachments: true"`,
      ...entry.sigstoreAt,
    });
  }
}

/** use-sigstore-attachments for the first key of the chain that sets it, else default-docker, else off. */
export function attachmentsFor(rd: RegistriesD, chain: string[]): { enabled: boolean; entry?: NamespaceEntry } {
  for (const key of chain) {
    const e = rd.docker.get(key);
    if (e?.useSigstoreAttachments !== undefined) return { enabled: e.useSigstoreAttachments, entry: e };
  }
  if (rd.defaultDocker?.useSigstoreAttachments !== undefined) return { enabled: rd.defaultDocker.useSigstoreAttachments, entry: rd.defaultDocker };
  return { enabled: false };
}

/** The lookaside base URL for reading: lookaside, or its old name sigstore, first key that sets one. */
export function lookasideFor(rd: RegistriesD, chain: string[]): { url: string; entry?: NamespaceEntry } {
  for (const e of [...chain.map((k) => rd.docker.get(k)), rd.defaultDocker]) {
    const url = e?.lookaside || e?.sigstore;
    if (e && url) return { url, entry: e };
  }
  return { url: DEFAULT_LOOKASIDE };
}

function keyPosition(doc: Document, text: string, segs: PathSegment[]): { line?: number; column?: number } {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const seg of segs) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
    if (!pair || !isScalar(pair.key)) break;
    offset = pair.key.range?.[0];
    node = pair.value;
  }
  return offset === undefined ? {} : lineColumn(text, offset);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
