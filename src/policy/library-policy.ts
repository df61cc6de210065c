// Whether containers/image (go.podman.io/image/v5 v5.38.0, signature/policy_config*.go) accepts a
// policy.json, and if not, its reason in its own words and where in the file it stopped. The
// library decodes strictly and stops at the first problem; this follows its order: the whole
// document's JSON syntax first, then key by key in file order. What it accepts comes back in the
// form the library itself would write it (json.Marshal of its types), which is what the
// differential test compares with the library.
import type { PathSegment } from './finding.js';
import type { GoJson } from './go-json.js';
import { parseGoJson } from './go-json.js';
import { parseNormalizedNamed, validateDigest, DOMAIN_RE, NAME_RE } from './scope.js';

export type Canonical = Record<string, unknown>;

export interface DecodedPolicy {
  default: Canonical[];
  transports: Record<string, Record<string, Canonical[]>>;
}

export interface PolicyRefusal {
  /** The library's error text, e.g. `Unknown key "keypath"`. */
  message: string;
  /** Where the decoder was when it refused (JSON path of the value or key). */
  segs: PathSegment[];
  /** Byte offset in the file. */
  offset: number;
}

export type PolicyDecision = { ok: true; policy: DecodedPolicy } | { ok: false; refusal: PolicyRefusal };

class Refused extends Error {
  constructor(readonly refusal: PolicyRefusal) {
    super(refusal.message);
  }
}

const refuse = (message: string, segs: PathSegment[], node: { offset: number }): never => {
  throw new Refused({ message, segs, offset: node.offset });
};

/** The transports CRI-O registers (alltransports, with docker-daemon and containers-storage), each with its scope check. */
const TRANSPORT_SCOPES: Record<string, (scope: string) => boolean> = {
  docker: () => true,
  atomic: (s) => /^[^/]*(\/[^:/]*(\/[^:/]*(:[^:/]*)?)?)?$/.test(s),
  dir: absoluteClean,
  sif: absoluteClean,
  oci: absoluteClean,
  'oci-archive': absoluteClean,
  'docker-archive': () => false,
  tarball: () => false,
  'docker-daemon': (s) => validateDigest(s) !== undefined,
  'containers-storage': storageScope,
  ostree: () => true,
};

/** Which transport names the library knows (a scope under any other name is kept unchecked). */
export const KNOWN_TRANSPORTS = Object.keys(TRANSPORT_SCOPES);

function absoluteClean(s: string): boolean {
  return s.startsWith('/') && s !== '/' && cleanPath(s) === s;
}

/** Go's filepath.Clean for absolute Unix paths. */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

/** storage_transport.go ValidatePolicyConfigurationScope: "[driver@/graph/root]" or "[/graph/root]", then name[@digest[@id]]. */
function storageScope(scope: string): boolean {
  if (scope[0] !== '[') return false;
  const close = scope.indexOf(']');
  if (close < 1) return false;
  const spec = scope.slice(1, close);
  const rest = scope.slice(close + 1);
  const at = spec.indexOf('@');
  if (at !== -1) {
    const [a, b] = [spec.slice(0, at), spec.slice(at + 1)];
    if (!(a !== '' && b !== '' && b.startsWith('/'))) return false;
  } else if (spec === '' || !spec.startsWith('/')) return false;
  if (rest === '') return true;
  const fields = splitN(rest, '@', 3);
  const id = (s: string): boolean => validateDigest(`sha256:${s}`) === undefined;
  if (fields.length === 2) return id(fields[1]) || validateDigest(fields[1]) === undefined;
  if (fields.length === 3) return validateDigest(fields[1]) === undefined && id(fields[2]);
  return true;
}

function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const k = rest.indexOf(sep);
    if (k === -1) break;
    out.push(rest.slice(0, k));
    rest = rest.slice(k + 1);
  }
  out.push(rest);
  return out;
}

/** What encoding/json names a JSON value in "cannot unmarshal X into …". */
const jsonKind = (v: GoJson): string => (v.kind === 'bool' ? 'bool' : v.kind);

const typeError = (v: GoJson, goType: string, segs: PathSegment[], field?: string): never =>
  refuse(`json: cannot unmarshal ${jsonKind(v)} into Go ${field ? `struct field ${field}` : 'value'} of type ${goType}`, segs, v);

/** %#v of the first token encoding/json's Decoder returns for a value. */
function goSyntaxOf(v: GoJson): string {
  switch (v.kind) {
    case 'object':
      return '123';
    case 'array':
      return '91';
    case 'string':
      return JSON.stringify(v.value);
    case 'number':
      return goFloat(v.text);
    case 'bool':
      return String(v.value);
    case 'null':
      return '<nil>';
  }
}

/** %#v of a float64: Go's %g-like shortest form. */
function goFloat(text: string): string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  const exp = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [m, e] = n.toExponential().split('e');
    const ev = Number(e);
    return `${m}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
  }
  return String(n);
}

/** ParanoidUnmarshalJSONObject: an object, no duplicate keys, each key known, values decoded in file order. */
function paranoid(v: GoJson, segs: PathSegment[], field: (key: string, value: GoJson, at: PathSegment[]) => boolean): void {
  if (v.kind !== 'object') return refuse(`JSON object expected, got ${goSyntaxOf(v)}`, segs, v);
  const seen = new Set<string>();
  for (const e of v.entries) {
    const at = [...segs, e.key];
    if (seen.has(e.key)) refuse(`Duplicate key ${goQuote(e.key)}`, at, { offset: e.keyOffset });
    seen.add(e.key);
    if (!field(e.key, e.value, at)) refuse(`Unknown key ${goQuote(e.key)}`, at, { offset: e.keyOffset });
  }
}

/** ParanoidUnmarshalJSONObjectExactFields: as paranoid, and each of the fields present. */
function exactFields(v: GoJson, segs: PathSegment[], fields: Record<string, (value: GoJson, at: PathSegment[]) => void>): void {
  const got = new Set<string>();
  paranoid(v, segs, (key, value, at) => {
    if (!Object.hasOwn(fields, key)) return false;
    const f = fields[key];
    got.add(key);
    f(value, at);
    return true;
  });
  // The library walks a Go map here, in no fixed order; with one field missing the message is the same.
  for (const key of Object.keys(fields)) if (!got.has(key)) refuse(`Key ${goQuote(key)} missing in a JSON object`, segs, v);
}

/** strconv.Quote / %q for the strings this decoder prints. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || (c >= 0x2028 && c <= 0x2029)) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

// Decoders of Go types from JSON values. null leaves a Go value as it was (nil / "").

const str = (goType: string) => (v: GoJson, segs: PathSegment[]): string | undefined => {
  if (v.kind === 'null') return undefined;
  if (v.kind !== 'string') return typeError(v, goType, segs);
  return v.value;
};

const stringList = (v: GoJson, segs: PathSegment[]): string[] | undefined => {
  if (v.kind === 'null') return undefined;
  if (v.kind !== 'array') return typeError(v, '[]string', segs);
  return v.items.map((item, k) => str('string')(item, [...segs, k]) ?? '');
};

/** encoding/json's []byte: standard base64 with padding; \r and \n are skipped. */
function bytes(v: GoJson, segs: PathSegment[]): string | undefined {
  if (v.kind === 'null') return undefined;
  if (v.kind === 'array') {
    // encoding/json fills a []byte from a JSON array element by element.
    const octets = v.items.map((item, k) => {
      if (item.kind === 'null') return 0;
      const n = item.kind === 'number' ? Number(item.text) : NaN;
      if (item.kind === 'number' && !(Number.isInteger(n) && n >= 0 && n <= 255 && /^[0-9]+$/.test(item.text))) refuse(`json: cannot unmarshal number ${item.text} into Go value of type uint8`, [...segs, k], item);
      if (item.kind !== 'number') typeError(item, 'uint8', [...segs, k]);
      return n;
    });
    return Buffer.from(octets).toString('base64');
  }
  if (v.kind !== 'string') return typeError(v, '[]uint8', segs);
  const decoded = base64Std(v.value);
  if (typeof decoded === 'number') return refuse(`illegal base64 data at input byte ${decoded}`, segs, v);
  return decoded;
}

const byteList = (v: GoJson, segs: PathSegment[]): (string | undefined)[] | undefined => {
  if (v.kind === 'null') return undefined;
  if (v.kind !== 'array') return typeError(v, '[][]uint8', segs);
  return v.items.map((item, k) => bytes(item, [...segs, k]));
};

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Go's base64.StdEncoding.DecodeString: the canonical re-encoding, or the byte offset it reports as illegal. */
export function base64Std(s: string): string | number {
  const src = Buffer.from(s, 'utf8');
  const out: number[] = [];
  const nl = (c: number): boolean => c === 0x0a || c === 0x0d;
  let si = 0;
  for (;;) {
    // One quantum of up to four symbols (decodeQuantum).
    const buf: number[] = [];
    let j = 0;
    let end = false;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out).toString('base64');
        return si - j;
      }
      const c = src[si++];
      const x = ALPHABET.indexOf(String.fromCharCode(c));
      if (x !== -1 && c < 0x80) {
        buf[j] = x;
        continue;
      }
      if (nl(c)) {
        j--;
        continue;
      }
      if (c !== 0x3d) return si - 1;
      if (j < 2) return si - 1;
      if (j === 2) {
        while (si < src.length && nl(src[si])) si++;
        if (si === src.length) return src.length;
        if (src[si] !== 0x3d) return si - 1;
        si++;
      }
      while (si < src.length && nl(src[si])) si++;
      if (si < src.length) return si;
      end = true;
      break;
    }
    const n = (buf[0] << 18) | (buf[1] << 12) | ((buf[2] ?? 0) << 6) | (buf[3] ?? 0);
    out.push((n >> 16) & 255);
    if (j > 2) out.push((n >> 8) & 255);
    if (j > 3) out.push(n & 255);
    if (end) return Buffer.from(out).toString('base64');
  }
}

// Requirement and identity types, as signature/policy_types.go names them.
const REQUIREMENT_TYPES = ['insecureAcceptAnything', 'reject', 'signedBy', 'signedBaseLayer', 'sigstoreSigned'];
const IDENTITY_TYPES = ['matchExact', 'matchRepoDigestOrExact', 'matchRepository', 'exactReference', 'exactRepository', 'remapIdentity'];
const KEY_TYPES = ['GPGKeys', 'signedByGPGKeys', 'X509Certificates', 'signedByX509CAs'];

/** json.Unmarshal into prCommon / prmCommon: any JSON object, its "type" (matched case-insensitively, last one wins). */
function typeField(v: GoJson, segs: PathSegment[], common: 'prCommon' | 'prmCommon'): string {
  const goType = common === 'prCommon' ? 'signature.prTypeIdentifier' : 'signature.prmTypeIdentifier';
  if (v.kind === 'null') return '';
  if (v.kind !== 'object') return typeError(v, `signature.${common}`, segs);
  let type = '';
  let firstError: GoJson | undefined;
  let errorAt: PathSegment[] = segs;
  for (const e of v.entries) {
    if (e.key.toLowerCase() !== 'type') continue;
    if (e.value.kind === 'string') type = e.value.value;
    else if (e.value.kind !== 'null' && !firstError) [firstError, errorAt] = [e.value, [...segs, e.key]];
  }
  if (firstError) typeError(firstError, goType, errorAt, `${common}.type`);
  return type;
}

function identity(v: GoJson, segs: PathSegment[]): Canonical {
  const type = typeField(v, segs, 'prmCommon');
  if (!IDENTITY_TYPES.includes(type)) refuse(`Unknown policy reference match type ${goQuote(type)}`, [...segs, 'type'], v);
  let t = '';
  const typeOnly = { type: (x: GoJson, at: PathSegment[]) => void (t = str('signature.prmTypeIdentifier')(x, at) ?? '') };
  const unexpected = (): void => {
    if (t !== type) refuse(`Unexpected policy requirement type ${goQuote(t)}`, [...segs, 'type'], v);
  };
  if (type === 'exactReference') {
    let ref = '';
    exactFields(v, segs, { ...typeOnly, dockerReference: (x, at) => void (ref = str('string')(x, at) ?? '') });
    unexpected();
    const parsed = parseNormalizedNamed(ref);
    if ('error' in parsed) refuse(`Invalid format of dockerReference ${goQuote(ref)}: ${parsed.error}`, [...segs, 'dockerReference'], v);
    else if (!parsed.ref.tag && !parsed.ref.digest) refuse(`dockerReference ${goQuote(ref)} contains neither a tag nor digest`, [...segs, 'dockerReference'], v);
    return { type, dockerReference: ref };
  }
  if (type === 'exactRepository') {
    let repo = '';
    exactFields(v, segs, { ...typeOnly, dockerRepository: (x, at) => void (repo = str('string')(x, at) ?? '') });
    unexpected();
    const parsed = parseNormalizedNamed(repo);
    if ('error' in parsed) refuse(`Invalid format of dockerRepository ${goQuote(repo)}: ${parsed.error}`, [...segs, 'dockerRepository'], v);
    return { type, dockerRepository: repo };
  }
  if (type === 'remapIdentity') {
    let prefix = '';
    let signedPrefix = '';
    exactFields(v, segs, {
      ...typeOnly,
      prefix: (x, at) => void (prefix = str('string')(x, at) ?? ''),
      signedPrefix: (x, at) => void (signedPrefix = str('string')(x, at) ?? ''),
    });
    unexpected();
    for (const [k, p] of [['prefix', prefix], ['signedPrefix', signedPrefix]] as const) {
      if (!validRemapPrefix(p)) refuse(`prefix ${goQuote(p)} is not valid`, [...segs, k], v);
    }
    return { type, prefix, signedPrefix };
  }
  exactFields(v, segs, typeOnly);
  unexpected();
  return { type };
}

const ANCHORED_DOMAIN = new RegExp(`^${DOMAIN_RE}$`);
const DOMAIN_PREFIX = new RegExp(`^${DOMAIN_RE}/`);
const ANCHORED_NAME = new RegExp(`^${NAME_RE}$`);

/** validateIdentityRemappingPrefix: a host[:port], or a repository name starting with one. */
const validRemapPrefix = (s: string): boolean => ANCHORED_DOMAIN.test(s) || (ANCHORED_NAME.test(s) && DOMAIN_PREFIX.test(s));

function requirement(v: GoJson, segs: PathSegment[]): Canonical {
  const type = typeField(v, segs, 'prCommon');
  if (!REQUIREMENT_TYPES.includes(type)) refuse(`Unknown policy requirement type ${goQuote(type)}`, [...segs, 'type'], v);
  let t = '';
  const readType = (x: GoJson, at: PathSegment[]): void => void (t = str('signature.prTypeIdentifier')(x, at) ?? '');
  const unexpected = (): void => {
    if (t !== type) refuse(`Unexpected policy requirement type ${goQuote(t)}`, [...segs, 'type'], v);
  };
  switch (type) {
    case 'insecureAcceptAnything':
    case 'reject':
      exactFields(v, segs, { type: readType });
      unexpected();
      return { type };
    case 'signedBaseLayer': {
      let raw: { value: GoJson; at: PathSegment[] } | undefined;
      exactFields(v, segs, { type: readType, baseLayerIdentity: (x, at) => void (raw = { value: x, at }) });
      unexpected();
      return { type, baseLayerIdentity: identity(raw!.value, raw!.at) };
    }
    case 'signedBy':
      return signedBy(v, segs, readType, unexpected);
    default:
      return sigstoreSigned(v, segs, readType, unexpected);
  }
}

type Got = { value: unknown; got: boolean };
type Decoder = (x: GoJson, at: PathSegment[]) => unknown;

/**
 * The key-by-key part of prSignedBy and prSigstoreSigned: each known key decoded where it stands
 * (null keeps the Go zero value), "type" checked, then signedIdentity (matchRepoDigestOrExact when left out).
 */
function keyedRequirement(v: GoJson, segs: PathSegment[], readType: Decoder, unexpected: () => void, decoders: Record<string, Decoder>): { f: Record<string, Got>; signedIdentity: Canonical } {
  const f: Record<string, Got> = Object.fromEntries(Object.keys(decoders).map((k) => [k, { value: undefined, got: false }]));
  let rawIdentity: { value: GoJson; at: PathSegment[] } | undefined;
  paranoid(v, segs, (key, x, at) => {
    if (key === 'type') readType(x, at);
    else if (key === 'signedIdentity') rawIdentity = { value: x, at };
    else if (Object.hasOwn(decoders, key)) f[key] = { got: true, value: decoders[key](x, at) ?? f[key].value };
    else return false;
    return true;
  });
  unexpected();
  return { f, signedIdentity: rawIdentity ? identity(rawIdentity.value, rawIdentity.at) : { type: 'matchRepoDigestOrExact' } };
}

function signedBy(v: GoJson, segs: PathSegment[], readType: Decoder, unexpected: () => void): Canonical {
  const keyType = (x: GoJson, at: PathSegment[]): string => {
    const s = str('string')(x, at) ?? '';
    if (!KEY_TYPES.includes(s)) refuse(`Unrecognized keyType value ${goQuote(s)}`, at, x);
    return s;
  };
  const { f, signedIdentity } = keyedRequirement(v, segs, readType, unexpected, { keyType, keyPath: str('string'), keyPaths: stringList, keyData: bytes });
  const got = [f.keyPath.got, f.keyPaths.got, f.keyData.got].filter(Boolean).length;
  if (got === 0) refuse('Exactly one of keyPath, keyPaths and keyData must be specified, none of them present', segs, v);
  if (got > 1) refuse('Exactly one of keyPath, keyPaths and keyData must be specified, more than one present', segs, v);
  const kt = (f.keyType.value as string | undefined) ?? '';
  if (!KEY_TYPES.includes(kt)) refuse(`invalid keyType ${goQuote(kt)}`, [...segs, 'keyType'], v);
  const sources = [f.keyPath.value ? 1 : 0, f.keyPaths.value !== undefined ? 1 : 0, f.keyData.value !== undefined ? 1 : 0].reduce((a, n) => a + n, 0);
  if (sources !== 1) refuse('exactly one of keyPath, keyPaths and keyData must be specified', segs, v);
  return omitEmpty({ type: 'signedBy', keyType: kt, keyPath: f.keyPath.value, keyPaths: f.keyPaths.value, keyData: f.keyData.value, signedIdentity });
}

/** json.Marshal with omitempty: "" and empty lists and empty []byte are left out. */
function omitEmpty(o: Record<string, unknown>): Canonical {
  const out: Canonical = {};
  for (const [k, val] of Object.entries(o)) {
    if (val === undefined || val === '' || (Array.isArray(val) && val.length === 0)) continue;
    out[k] = val;
  }
  return out;
}

function sigstoreSigned(v: GoJson, segs: PathSegment[], readType: Decoder, unexpected: () => void): Canonical {
  const { f, signedIdentity } = keyedRequirement(v, segs, readType, unexpected, {
    keyPath: str('string'),
    keyPaths: stringList,
    keyData: bytes,
    keyDatas: byteList,
    fulcio,
    rekorPublicKeyPath: str('string'),
    rekorPublicKeyPaths: stringList,
    rekorPublicKeyData: bytes,
    rekorPublicKeyDatas: byteList,
    pki,
  });
  // The options, applied in the library's order.
  const at = (k: string): PathSegment[] => [...segs, k];
  const list = (k: string, name: string): void => {
    if (f[k].got && !(f[k].value as unknown[] | undefined)?.length) refuse(`"${name}" contains no entries`, at(k), v);
  };
  list('keyPaths', 'keyPaths');
  list('keyDatas', 'keyDatas');
  list('rekorPublicKeyPaths', 'rekorPublickeyPaths');
  list('rekorPublicKeyDatas', 'rekorPublickeyDatas');
  const present = (k: string): boolean => (k.endsWith('Path') ? !!f[k].value : f[k].value !== undefined);
  const keySources = ['keyPath', 'keyPaths', 'keyData', 'keyDatas', 'fulcio', 'pki'].filter(present).length;
  if (keySources !== 1) refuse('exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio, and pki must be specified', segs, v);
  const rekor = ['rekorPublicKeyPath', 'rekorPublicKeyPaths', 'rekorPublicKeyData', 'rekorPublicKeyDatas'].filter(present).length;
  if (rekor > 1) refuse('at most one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas can be used simultaneously', segs, v);
  if (present('fulcio') && rekor === 0) refuse('At least one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas must be specified if fulcio is used', segs, v);
  if (present('pki') && rekor > 0) refuse('rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas are not supported for pki', segs, v);
  const value = (k: string): unknown => f[k].value;
  return omitEmpty({
    type: 'sigstoreSigned',
    keyPath: value('keyPath'),
    keyPaths: value('keyPaths'),
    keyData: value('keyData'),
    keyDatas: (value('keyDatas') as (string | undefined)[] | undefined)?.map((d) => d ?? null),
    fulcio: value('fulcio'),
    rekorPublicKeyPath: value('rekorPublicKeyPath'),
    rekorPublicKeyPaths: value('rekorPublicKeyPaths'),
    rekorPublicKeyData: value('rekorPublicKeyData'),
    rekorPublicKeyDatas: (value('rekorPublicKeyDatas') as (string | undefined)[] | undefined)?.map((d) => d ?? null),
    pki: value('pki'),
    signedIdentity,
  });
}

/** prSigstoreSignedFulcio.UnmarshalJSON and newPRSigstoreSignedFulcio. */
function fulcio(v: GoJson, segs: PathSegment[]): Canonical {
  const o: Record<string, string | undefined> = {};
  paranoid(v, segs, (key, x, at) => {
    if (key === 'caPath' || key === 'oidcIssuer' || key === 'subjectEmail') o[key] = str('string')(x, at) ?? o[key];
    else if (key === 'caData') o[key] = bytes(x, at) ?? o[key];
    else return false;
    return true;
  });
  if (o.caPath && o.caData !== undefined) refuse('caPath and caData cannot be used simultaneously', segs, v);
  if (!o.caPath && o.caData === undefined) refuse('At least one of caPath and caData must be specified', segs, v);
  if (!o.oidcIssuer) refuse('oidcIssuer not specified', segs, v);
  if (!o.subjectEmail) refuse('subjectEmail not specified', segs, v);
  return omitEmpty({ caPath: o.caPath, caData: o.caData, oidcIssuer: o.oidcIssuer, subjectEmail: o.subjectEmail });
}

/** prSigstoreSignedPKI.UnmarshalJSON and newPRSigstoreSignedPKI. */
function pki(v: GoJson, segs: PathSegment[]): Canonical {
  const o: Record<string, string | undefined> = {};
  paranoid(v, segs, (key, x, at) => {
    if (['caRootsPath', 'caIntermediatesPath', 'subjectEmail', 'subjectHostname'].includes(key)) o[key] = str('string')(x, at) ?? o[key];
    else if (key === 'caRootsData' || key === 'caIntermediatesData') o[key] = bytes(x, at) ?? o[key];
    else return false;
    return true;
  });
  if (o.caRootsPath && o.caRootsData !== undefined) refuse('caRootsPath and caRootsData cannot be used simultaneously', segs, v);
  if (!o.caRootsPath && o.caRootsData === undefined) refuse('At least one of caRootsPath and caRootsData must be specified', segs, v);
  if (o.caIntermediatesPath && o.caIntermediatesData !== undefined) refuse('caIntermediatesPath and caIntermediatesData cannot be used simultaneously', segs, v);
  if (!o.subjectEmail && !o.subjectHostname) refuse('At least one of subjectEmail, subjectHostname must be specified', segs, v);
  return omitEmpty({ caRootsPath: o.caRootsPath, caRootsData: o.caRootsData, caIntermediatesPath: o.caIntermediatesPath, caIntermediatesData: o.caIntermediatesData, subjectEmail: o.subjectEmail, subjectHostname: o.subjectHostname });
}

/** PolicyRequirements.UnmarshalJSON: a non-empty array of requirements. */
function requirements(v: GoJson, segs: PathSegment[]): Canonical[] {
  if (v.kind === 'null') refuse('List of verification policy requirements must not be empty', segs, v);
  if (v.kind !== 'array') return typeError(v, '[]json.RawMessage', segs);
  if (v.items.length === 0) refuse('List of verification policy requirements must not be empty', segs, v);
  return v.items.map((item, k) => requirement(item, [...segs, k]));
}

/** signature.NewPolicyFromBytes. */
export function decodePolicy(input: Buffer | string): PolicyDecision {
  const parsed = parseGoJson(input);
  if ('error' in parsed) return { ok: false, refusal: { message: parsed.error.message, segs: [], offset: parsed.error.offset } };
  const doc = parsed.value;
  try {
    let def: Canonical[] | undefined;
    const transports: DecodedPolicy['transports'] = {};
    paranoid(doc, [], (key, value, at) => {
      if (key === 'default') def = requirements(value, at);
      else if (key === 'transports') {
        paranoid(value, at, (transport, scopes, tAt) => {
          const check = Object.hasOwn(TRANSPORT_SCOPES, transport) ? TRANSPORT_SCOPES[transport] : undefined;
          const table: Record<string, Canonical[]> = {};
          paranoid(scopes, tAt, (scope, reqs, sAt) => {
            if (scope !== '' && check && !check(scope)) return false;
            table[scope] = requirements(reqs, sAt);
            return true;
          });
          transports[transport] = table;
          return true;
        });
      } else return false;
      return true;
    });
    if (def === undefined) refuse('Default policy is missing', [], doc);
    return { ok: true, policy: { default: def!, transports } };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, refusal: e.refusal };
    throw e;
  }
}
