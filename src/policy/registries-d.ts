// registries.d (containers-registries.d(5)) as containers/image reads it (docker/registries_d.go):
// every *.yaml file of ONE directory, ~/.config/containers/registries.d winning over /etc when it
// exists, a namespace or default-docker defined in two files refusing the whole configuration.
// Lookups walk the same keys as the policy (scope.ts) and end at default-docker.
import type { Dirent } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Document, Node as YamlNode } from 'yaml';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Context } from '../core/context.js';
import { SYSTEM_PATHS } from '../core/settings.js';
import type { Finding, PathSegment } from './finding.js';
import { jsonPath } from './finding.js';
import { goQuote } from './library-policy.js';
import { parseScope, scopeChain } from './scope.js';

/** Files larger than this are not read (the library would read them whole into memory). */
export const REGISTRIES_FILE_MAX_BYTES = 1 << 20;

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
  /** The library's reason for refusing the whole directory (the first it meets, in its order); then every docker pull fails. */
  refusal?: { file: string; message: string };
  findings: Finding[];
  notes: string[];
}

const STRING_KEYS = ['lookaside', 'lookaside-staging', 'sigstore', 'sigstore-staging'];
// yaml.v3 decodes these YAML 1.1 spellings into a bool field, quoted or not; anything else there fails to load.
const YAML_TRUE = ['true', 'True', 'TRUE', 'y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'];
const YAML_FALSE = ['false', 'False', 'FALSE', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'];

/** 'unknown' when the directory cannot be looked at (root's home, read by a normal user). */
const presence = (p: string): Promise<'yes' | 'no' | 'unknown'> =>
  fs.stat(p).then(
    () => 'yes',
    (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? 'no' : 'unknown'),
  );

/** One directory entry as the library meets it: its text, or why it cannot be read. */
interface Entry {
  name: string;
  /** Path as CRI-O names it. */
  file: string;
  text?: string;
  /** The library's error when it reads this entry (a directory named *.yaml). */
  readError?: string;
  /** Not read by the linter: a FIFO (the library would block on it), a device, a file over the size cap. */
  skipped?: string;
}

/** Entries in the order the library reads them: the directory's own order (os.File.Readdirnames), not sorted. */
async function listEntries(real: string, shown: string): Promise<Entry[] | { error: string }> {
  let dir;
  try {
    dir = await fs.opendir(real);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? [] : { error: `open ${shown}: ${(e as Error).message}` };
  }
  const out: Entry[] = [];
  try {
    for await (const d of dir as AsyncIterable<Dirent>) out.push(await readEntry(path.join(real, d.name), d.name, path.join(shown, d.name)));
  } catch (e) {
    return { error: `readdirent ${shown}: ${(e as Error).message}` };
  }
  return out;
}

/** Reads regular files only (following symlinks, as os.ReadFile does), up to REGISTRIES_FILE_MAX_BYTES. */
async function readEntry(real: string, name: string, file: string): Promise<Entry> {
  const entry: Entry = { name, file };
  if (!name.endsWith('.yaml')) return entry;
  const st = await fs.stat(real).catch(() => undefined);
  if (!st) return entry;
  if (st.isDirectory()) entry.readError = `read ${file}: is a directory`;
  else if (st.isFIFO()) entry.skipped = 'a FIFO: the library opens it and waits until something writes to it, so every docker pull on the node hangs';
  else if (!st.isFile()) entry.skipped = 'not a regular file (a device or a socket): the library reads whatever it yields';
  else if (st.size > REGISTRIES_FILE_MAX_BYTES) entry.skipped = `${st.size} bytes, over the ${REGISTRIES_FILE_MAX_BYTES}-byte limit this check reads`;
  else {
    const handle = await fs.open(real, 'r');
    try {
      // Opened without blocking on a FIFO swapped in after the stat: read at most the cap.
      const buf = Buffer.alloc(REGISTRIES_FILE_MAX_BYTES + 1);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      if (bytesRead > REGISTRIES_FILE_MAX_BYTES) entry.skipped = `over the ${REGISTRIES_FILE_MAX_BYTES}-byte limit this check reads`;
      else entry.text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  }
  return entry;
}

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
  const listed = await listEntries(real, rd.dir);
  if (!Array.isArray(listed)) {
    rd.refusal = { file: rd.dir, message: listed.error };
    rd.findings.push({ file: rd.dir, jsonPath: '$', severity: 'error', code: 'registries-d-invalid', message: `the library cannot read the directory (${listed.error}), so every docker pull fails`, fix: `make ${rd.dir} a readable directory` });
    return rd;
  }
  const entries = listed;
  for (const p of opts.pending ?? []) {
    if (opts.dir || path.dirname(p.path) !== rd.dir || p.content === undefined) continue;
    const name = path.basename(p.path);
    const planned: Entry = { name, file: p.path, text: p.content.toString() };
    const k = entries.findIndex((e) => e.name === name);
    if (k === -1) entries.push(planned);
    else entries[k] = planned;
  }
  const decoded = new Map(entries.filter((e) => e.text !== undefined).map((e) => [e.name, decodeYaml(e.text!)]));
  rd.refusal = libraryRefusal(entries, decoded);
  for (const e of [...entries].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    if (e.name.endsWith('.yml')) {
      rd.findings.push({ file: e.file, jsonPath: '$', severity: 'warning', code: 'registries-d-ignored-file', message: 'the library reads only files ending in .yaml; this one is ignored', fix: `rename it to ${e.name.replace(/\.yml$/, '.yaml')}` });
    }
    if (!e.name.endsWith('.yaml')) continue;
    if (e.readError) {
      rd.findings.push({ file: e.file, jsonPath: '$', severity: 'error', code: 'registries-d-not-a-file', message: `the library reads every *.yaml entry as a file and refuses the whole directory ("${e.readError}"), so every docker pull fails`, fix: `rename or remove ${e.file}` });
    } else if (e.skipped) {
      rd.findings.push({ file: e.file, jsonPath: '$', severity: 'error', code: 'registries-d-not-a-file', message: `not read: ${e.skipped}`, fix: `replace ${e.file} with a regular file, or remove it` });
    } else if (e.text !== undefined) fileFindings(rd, e.file, decoded.get(e.name)!);
  }
  quoteRefusal(rd);
  flagSigstoreKeys(rd);
  return rd;
}

/** The error loadAndMergeConfig returns: the first entry, in directory order, that it cannot read, decode or merge. */
function libraryRefusal(entries: Entry[], decoded: Map<string, DecodedYaml>): RegistriesD['refusal'] {
  let defaultFrom: string | undefined;
  const from = new Map<string, string>();
  for (const e of entries) {
    if (!e.name.endsWith('.yaml')) continue;
    if (e.readError) return { file: e.file, message: e.readError };
    const d = decoded.get(e.name);
    if (!d) continue;
    if (d.error) return { file: e.file, message: `parsing ${e.file}: ${d.error}` };
    if (d.hasDefault) {
      if (defaultFrom) return { file: e.file, message: `Error parsing signature storage configuration: "default-docker" defined both in ${goQuote(defaultFrom)} and ${goQuote(e.file)}` };
      defaultFrom = e.file;
    }
    for (const ns of d.namespaces.keys()) {
      const earlier = from.get(ns);
      if (earlier) return { file: e.file, message: `Error parsing signature storage configuration: "docker" namespace ${goQuote(ns)} defined both in ${goQuote(earlier)} and ${goQuote(e.file)}` };
      from.set(ns, e.file);
    }
  }
  return undefined;
}

/** Puts the library's own words into the error finding that stands for them, or adds one. */
function quoteRefusal(rd: RegistriesD): void {
  const r = rd.refusal;
  if (!r) return;
  const words = r.message.replace(/\s+/g, ' ');
  const dup = /^Error parsing signature storage configuration: "(default-docker)"|"docker" namespace ("(?:[^"\\]|\\.)*")/.exec(r.message);
  const key = dup ? (dup[1] ?? (JSON.parse(dup[2]) as string)) : undefined;
  const target = rd.findings.find((f) =>
    f.severity === 'error' && (key !== undefined ? f.code === 'registries-d-duplicate' && (key === 'default-docker' ? f.jsonPath === '$["default-docker"]' : f.jsonPath === jsonPath(['docker', key])) : f.file === r.file && f.code !== 'registries-d-duplicate'),
  );
  if (target) target.message = `${target.message} (the library: "${words}")`;
  else rd.findings.push({ file: r.file, jsonPath: '$', severity: 'error', code: 'registries-d-invalid', message: `the library refuses the whole directory ("${words}"), so every docker pull fails`, fix: `fix ${r.file}` });
}

interface DecodedYaml {
  /** yaml.v3's error for the whole file, as Unmarshal returns it. */
  error?: string;
  /** Each unmarshal error, to point at. */
  problems: { segs: PathSegment[]; line: number; text: string }[];
  hasDefault: boolean;
  defaultDocker?: DecodedNamespace;
  namespaces: Map<string, DecodedNamespace>;
  /** Line and column of a key path. */
  position(segs: PathSegment[]): { line?: number; column?: number };
  unknownKeys: PathSegment[][];
}

interface DecodedNamespace {
  segs: PathSegment[];
  useSigstoreAttachments?: boolean;
  lookaside?: string;
  sigstore?: string;
}

/** libyaml's words for the syntax errors the yaml package reports under other names. */
const LIBYAML_PROBLEMS: Record<string, string> = {
  TAB_AS_INDENT: 'found character that cannot start any token',
  MISSING_CHAR: 'found unexpected end of stream',
  BAD_INDENT: 'did not find expected node content',
  BLOCK_AS_IMPLICIT_KEY: 'mapping values are not allowed in this context',
};

/**
 * yaml.Unmarshal (gopkg.in/yaml.v3) into the library's registryConfiguration: unknown keys ignored,
 * scalars of any kind into strings, YAML 1.1 booleans into use-sigstore-attachments, duplicate keys
 * refused, aliases followed only where a value is decoded (so an alias bomb costs nothing).
 */
function decodeYaml(text: string): DecodedYaml {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { uniqueKeys: false, lineCounter: lc, prettyErrors: false });
  const out: DecodedYaml = { problems: [], hasDefault: false, namespaces: new Map(), position: (segs) => keyPosition(doc, lc, segs), unknownKeys: [] };
  if (doc.errors.length) {
    const e = doc.errors[0];
    let line = lc.linePos(e.pos[0]).line;
    // libyaml names the line where an unclosed quoted scalar starts.
    if (e.code === 'MISSING_CHAR') line = lc.linePos(Math.max(text.lastIndexOf('"', e.pos[0] - 1), text.lastIndexOf("'", e.pos[0] - 1), 0)).line;
    out.error = `yaml: line ${line}: ${LIBYAML_PROBLEMS[e.code] ?? e.message.split(' at line ')[0]}`;
    out.problems.push({ segs: [], line, text: out.error });
    return out;
  }
  const lineOf = (n: YamlNode | null | undefined): number => lc.linePos(n?.range?.[0] ?? 0).line;
  const resolve = (n: unknown): YamlNode | null => {
    // An alias stands for its anchor's node; yaml.v3 reports that node's line.
    let node = n as YamlNode | null;
    for (let hops = 0; node && isAlias(node) && hops < 64; hops++) node = (node.resolve(doc) as YamlNode | undefined) ?? null;
    return node;
  };
  const problem = (segs: PathSegment[], n: YamlNode, into: string): void => {
    const tag = scalarTag(n);
    const value = isScalar(n) ? String(n.source ?? n.value ?? '') : '';
    const shown = isMap(n) || isSeq(n) ? '' : value.length > 10 ? ` \`${value.slice(0, 7)}...\`` : ` \`${value}\``;
    out.problems.push({ segs, line: lineOf(n), text: `line ${lineOf(n)}: cannot unmarshal ${tag}${shown} into ${into}` });
  };
  const isNull = (n: YamlNode | null): boolean => n === null || (isScalar(n) && scalarTag(n) === '!!null');
  /** mapping(): duplicate keys are refused before anything in the mapping is decoded. */
  const pairs = (n: YamlNode, segs: PathSegment[]): [string, YamlNode | null, YamlNode][] | undefined => {
    if (!isMap(n)) return undefined;
    const items = n.items.map((p) => [isScalar(p.key) ? String(p.key.source ?? p.key.value ?? '') : '', p.value as YamlNode | null, p.key as YamlNode] as [string, YamlNode | null, YamlNode]);
    let dup = false;
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) {
        if (items[i][0] === items[j][0] && isScalar(items[i][2]) && isScalar(items[j][2])) {
          out.problems.push({ segs: [...segs, items[j][0]], line: lineOf(items[j][2]), text: `line ${lineOf(items[j][2])}: mapping key ${goQuote(items[j][0])} already defined at line ${lineOf(items[i][2])}` });
          dup = true;
        }
      }
    }
    return dup ? undefined : items;
  };
  const namespace = (raw: YamlNode | null, segs: PathSegment[]): DecodedNamespace | undefined => {
    const n = resolve(raw);
    const ns: DecodedNamespace = { segs };
    if (isNull(n)) return ns;
    if (!isMap(n)) {
      problem(segs, n!, 'docker.registryNamespace');
      return undefined;
    }
    for (const [k, rv] of pairs(n, segs) ?? []) {
      const v = resolve(rv);
      const at = [...segs, k];
      if (k === 'use-sigstore-attachments') {
        if (isNull(v)) continue;
        const word = isScalar(v) ? String(v.source ?? v.value) : undefined;
        if (word !== undefined && YAML_TRUE.includes(word) && !(scalarTag(v!) === '!!str' && ['true', 'True', 'TRUE'].includes(word))) ns.useSigstoreAttachments = true;
        else if (word !== undefined && YAML_FALSE.includes(word) && !(scalarTag(v!) === '!!str' && ['false', 'False', 'FALSE'].includes(word))) ns.useSigstoreAttachments = false;
        else problem(at, v!, 'bool');
      } else if (STRING_KEYS.includes(k)) {
        if (isNull(v)) continue;
        if (!isScalar(v)) problem(at, v!, 'string');
        else if (k === 'lookaside') ns.lookaside = String(v.source ?? v.value);
        else if (k === 'sigstore') ns.sigstore = String(v.source ?? v.value);
      } else out.unknownKeys.push(at);
    }
    return ns;
  };
  const top = resolve(doc.contents as YamlNode | null);
  if (top !== null && !isNull(top)) {
    if (!isMap(top)) problem([], top, 'docker.registryConfiguration');
    for (const [k, rv] of (isMap(top) && pairs(top, [])) || []) {
      if (k === 'default-docker') {
        const ns = namespace(rv, ['default-docker']);
        // A null default-docker leaves the pointer nil: not "defined" for the merge.
        if (ns && !isNull(resolve(rv))) [out.hasDefault, out.defaultDocker] = [true, ns];
      } else if (k === 'docker') {
        const v = resolve(rv);
        if (isNull(v)) continue;
        if (!isMap(v)) {
          problem(['docker'], v!, 'map[string]docker.registryNamespace');
          continue;
        }
        for (const [name, nv] of pairs(v, ['docker']) ?? []) {
          const ns = namespace(nv, ['docker', name]);
          if (ns) out.namespaces.set(name, ns);
        }
      } else out.unknownKeys.push([k]);
    }
  }
  if (out.problems.length) out.error = `yaml: unmarshal errors:\n  ${out.problems.map((p) => p.text).join('\n  ')}`;
  return out;
}

/** The tag yaml.v3 resolves a node to: quoted scalars are strings, plain ones null, bool, int, float or string (YAML 1.2 core). */
function scalarTag(n: YamlNode): string {
  if (isMap(n)) return '!!map';
  if (isSeq(n)) return '!!seq';
  if (!isScalar(n)) return '!!str';
  if (n.type && n.type !== 'PLAIN') return '!!str';
  const s = String(n.source ?? n.value ?? '');
  if (['', '~', 'null', 'Null', 'NULL'].includes(s)) return '!!null';
  if (['true', 'True', 'TRUE', 'false', 'False', 'FALSE'].includes(s)) return '!!bool';
  if (/^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+)$/.test(s)) return '!!int';
  if (/^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$/.test(s) || /^[-+]?\.(inf|Inf|INF)$/.test(s) || /^\.(nan|NaN|NAN)$/.test(s)) return '!!float';
  return '!!str';
}

type Report = (segs: PathSegment[], severity: Finding['severity'], code: string, message: string, fix: string) => void;

/** The findings of one file, in the library's terms, and its namespaces for the lookups. */
function fileFindings(rd: RegistriesD, file: string, d: DecodedYaml): void {
  const finding: Report = (segs, severity, code, message, fix) => {
    rd.findings.push({ file, jsonPath: jsonPath(segs), severity, code, message, fix, ...d.position(segs) });
  };
  if (d.error) {
    // One finding per problem; the first carries the library's whole message.
    for (const [k, p] of d.problems.entries()) {
      const words = k === 0 ? `; the library refuses the whole directory ("parsing ${file}: ${d.error.replace(/\s+/g, ' ')}"), so every docker pull fails` : '';
      rd.findings.push({ file, jsonPath: jsonPath(p.segs), severity: 'error', code: 'registries-d-invalid', message: `${p.text.replace(/^yaml: /, '')}${words}`, fix: `fix ${file} at line ${p.line}`, line: p.line, ...(p.segs.length ? { column: d.position(p.segs).column } : {}) });
    }
    // A syntax error leaves nothing to look at; after unmarshal errors the rest is still worth naming.
    if (d.error.startsWith('yaml: line ')) return;
  }
  for (const segs of d.unknownKeys) {
    if (segs.length === 1) finding(segs, 'warning', 'registries-d-unknown-key', `"${segs[0]}" is not a registries.d key; the library ignores it`, 'use "docker:" (per namespace) or "default-docker:"');
    else finding(segs, 'warning', 'registries-d-unknown-key', `"${segs.at(-1)}" is not a registries.d setting; the library ignores it`, `use one of use-sigstore-attachments, ${STRING_KEYS.join(', ')}`);
  }
  const entryOf = (key: string, ns: DecodedNamespace): NamespaceEntry => ({
    file,
    key,
    jsonPath: jsonPath(ns.segs),
    useSigstoreAttachments: ns.useSigstoreAttachments,
    lookaside: ns.lookaside,
    sigstore: ns.sigstore,
    sigstoreAt: ns.sigstore === undefined ? undefined : d.position([...ns.segs, 'sigstore']),
  });
  if (d.hasDefault && d.defaultDocker) {
    if (rd.defaultDocker) finding(['default-docker'], 'error', 'registries-d-duplicate', `"default-docker" is also defined in ${rd.defaultDocker.file}; the library refuses the whole directory, so every pull fails`, 'keep default-docker in one file');
    else rd.defaultDocker = entryOf('default-docker', d.defaultDocker);
  }
  for (const [ns, decoded] of d.namespaces) {
    const segs = ['docker', ns];
    const scope = parseScope(ns);
    if (scope.kind === 'never-matches') finding(segs, 'warning', 'registries-d-scope-never-matches', `the namespace "${ns}" can never match: ${scope.why}`, scope.fix);
    const earlier = rd.docker.get(ns);
    if (earlier) finding(segs, 'error', 'registries-d-duplicate', `the namespace "${ns}" is also defined in ${earlier.file}; the library refuses the whole directory, so every pull fails`, `keep "${ns}" in one file`);
    else rd.docker.set(ns, entryOf(ns, decoded));
  }
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
      message: `"sigstore: ${entry.sigstore}" is the old name of "lookaside", a store of GPG simple-signing signatures; it does not make the library fetch cosign signatures${attachments ? ' (use-sigstore-attachments is enabled here anyway)' : '; the library accepts the file, but every cosign-signed image is rejected with "A signature was required, but no signature exists"'}`,
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

function keyPosition(doc: Document, lc: LineCounter, segs: PathSegment[]): { line?: number; column?: number } {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const seg of segs) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
    if (!pair || !isScalar(pair.key)) break;
    offset = pair.key.range?.[0];
    node = pair.value;
  }
  if (offset === undefined) return {};
  const { line, col } = lc.linePos(offset);
  return { line, column: col };
}

/**
 * Where the library reads lookaside signatures of a repository (lookasideStorageBaseURL): the
 * configured URL parsed as Go's net/url parses it, with "/" + the repository path appended to its
 * path, printed as url.URL.String() prints it; or the library's error, which fails the pull.
 */
export function lookasideLocation(raw: string, repoPath: string): { base: string } | { error: string } {
  const u = goParseUrl(raw);
  if ('error' in u) return { error: `Invalid signature storage URL ${raw}: parse ${goQuote(raw)}: ${u.error}` };
  u.path = `${u.path}/${repoPath}`;
  return { base: goUrlString(u) };
}

interface GoUrl {
  scheme: string;
  opaque: string;
  authority?: string;
  path: string;
  rawQuery?: string;
  forceQuery: boolean;
  fragment?: string;
}

/** net/url.Parse for the URLs registries.d holds (no user info or IPv6 zone handling beyond what errors need). */
function goParseUrl(rawUrl: string): GoUrl | { error: string } {
  const hash = rawUrl.indexOf('#');
  const [raw, fragment] = hash === -1 ? [rawUrl, undefined] : [rawUrl.slice(0, hash), rawUrl.slice(hash + 1)];
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(rawUrl)) return { error: 'net/url: invalid control character in URL' };
  let scheme = '';
  let rest = raw;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) return { error: 'missing protocol scheme' };
      [scheme, rest] = [raw.slice(0, i).toLowerCase(), raw.slice(i + 1)];
    }
    break;
  }
  const u: GoUrl = { scheme, opaque: '', path: '', forceQuery: false, fragment };
  if (rest.endsWith('?') && rest.split('?').length === 2) [u.forceQuery, rest] = [true, rest.slice(0, -1)];
  else if (rest.includes('?')) [rest, u.rawQuery] = [rest.slice(0, rest.indexOf('?')), rest.slice(rest.indexOf('?') + 1)];
  if (!rest.startsWith('/')) {
    if (scheme !== '') {
      u.opaque = rest;
      return u;
    }
    if (rest.split('/')[0].includes(':')) return { error: 'first path segment in URL cannot contain colon' };
  }
  if (rest.startsWith('//') && (scheme !== '' || !rest.startsWith('///'))) {
    const slash = rest.indexOf('/', 2);
    const authority = slash === -1 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash === -1 ? '' : rest.slice(slash);
    const host = authority.slice(authority.lastIndexOf('@') + 1);
    const validPort = (p: string): boolean => p === '' || /^:[0-9]*$/.test(p);
    if (host.startsWith('[')) {
      const close = host.lastIndexOf(']');
      if (close < 0) return { error: "missing ']' in host" };
      if (!validPort(host.slice(close + 1))) return { error: `invalid port ${goQuote(host.slice(close + 1))} after host` };
    } else if (host.includes(':') && !validPort(host.slice(host.lastIndexOf(':')))) {
      return { error: `invalid port ${goQuote(host.slice(host.lastIndexOf(':')))} after host` };
    }
    const bad = badEscape(host);
    if (bad) return { error: `invalid URL escape ${goQuote(bad)}` };
    u.authority = authority;
  }
  const bad = badEscape(rest) ?? (fragment !== undefined ? badEscape(fragment) : undefined);
  if (bad) return { error: `invalid URL escape ${goQuote(bad)}` };
  u.path = decodeURIComponentLoose(rest);
  return u;
}

/** The first "%" not followed by two hex digits, as url.unescape reports it (at most 3 bytes). */
function badEscape(s: string): string | undefined {
  const m = /%(?![0-9a-fA-F]{2})/.exec(s);
  return m ? s.slice(m.index, m.index + 3) : undefined;
}

const decodeURIComponentLoose = (s: string): string => s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

/** url.URL.String() after the path was changed (so the path is re-escaped). */
function goUrlString(u: GoUrl): string {
  let out = u.scheme ? `${u.scheme}:` : '';
  if (u.opaque) out += u.opaque;
  else {
    if (u.scheme || u.authority !== undefined) {
      if (u.authority || u.path) out += '//';
      out += u.authority ?? '';
    }
    const p = u.path.replace(/[^A-Za-z0-9\-_.~$&+,/:;=@]/g, (c) => encodeURIComponent(c));
    if (p && !p.startsWith('/') && u.authority) out += '/';
    out += p;
  }
  if (u.forceQuery || u.rawQuery) out += `?${u.rawQuery ?? ''}`;
  if (u.fragment) out += `#${u.fragment}`;
  return out;
}
