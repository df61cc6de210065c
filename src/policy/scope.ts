// Image names and policy scopes the way containers/image reads them, so that the linter and
// `policy explain` agree with the library on which scope decides for an image.
// Sources (containers/image v5.36, unchanged in go.podman.io/image v5.38):
//   docker/reference/regexp.go, normalize.go      the name grammar and docker.io normalisation
//   docker/policyconfiguration/naming.go           DockerReferenceIdentity, DockerReferenceNamespaces
//   signature/policy_eval.go requirementsForImageRef  identity, namespaces, transports.docker[""], default
//   docker/docker_transport.go ValidatePolicyConfigurationScope  accepts every scope, so a scope
//     that can never match is silently kept; the linter has to say so.
import { UsageError } from '../core/errors.js';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
/** reference.DomainRegexp: host[:port]. */
export const DOMAIN_RE = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const NAME_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*';
/** reference.NameRegexp: [host[:port]/]component[/component…]. */
export const NAME_RE = `(?:${DOMAIN_RE}/)?${NAME_COMPONENT}(?:/${NAME_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME_RE})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${DOMAIN_RE})/)?(${NAME_COMPONENT}(?:/${NAME_COMPONENT})*)$`);
const ANCHORED_DOMAIN = new RegExp(`^${DOMAIN_RE}$`);
const NAME_TOTAL_LENGTH_MAX = 255;

/** go-digest's algorithms that the library's builds have (crypto/sha256 and sha512 linked), with their hex length. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** go-digest Digest.Validate: undefined when valid, else its error text. */
export function validateDigest(d: string): string | undefined {
  const i = d.indexOf(':');
  if (i <= 0 || i + 1 === d.length) return 'invalid checksum digest format';
  const [algorithm, encoded] = [d.slice(0, i), d.slice(i + 1)];
  const size = DIGEST_HEX_LENGTH[algorithm];
  if (size === undefined) return /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(d) ? 'unsupported digest algorithm' : 'invalid checksum digest format';
  if (encoded.length !== size) return 'invalid checksum digest length';
  return /^[a-f0-9]+$/.test(encoded) ? undefined : 'invalid checksum digest format';
}

/** A fully expanded docker reference: docker.io/library/alpine:latest, 127.0.0.1:5003/alpine@sha256:… */
export interface DockerRef {
  /** domain/path, without tag or digest. */
  name: string;
  /** host[:port] */
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

/** The policy identity of a reference: name:tag or name@digest. */
export const refIdentity = (r: DockerRef): string => (r.digest ? `${r.name}@${r.digest}` : r.tag ? `${r.name}:${r.tag}` : r.name);

/** reference.splitDockerDomain: a first component without '.' or ':' (and not localhost) is a Docker Hub path. */
function splitDockerDomain(s: string): { domain: string; remainder: string } {
  const i = s.indexOf('/');
  let domain = 'docker.io';
  let remainder = s;
  if (i !== -1 && (/[.:]/.test(s.slice(0, i)) || s.slice(0, i) === 'localhost')) {
    domain = s.slice(0, i);
    remainder = s.slice(i + 1);
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !remainder.includes('/')) remainder = `library/${remainder}`;
  return { domain, remainder };
}

/** reference.Parse: a reference as written (no normalisation), or the library's error text. */
export function parseReference(s: string): { ref: DockerRef } | { error: string } {
  const m = REFERENCE.exec(s);
  if (!m) {
    if (s === '') return { error: 'repository name must have at least one component' };
    if (REFERENCE.test(s.toLowerCase())) return { error: 'repository name must be lowercase' };
    return { error: 'invalid reference format' };
  }
  if (m[1].length > NAME_TOTAL_LENGTH_MAX) return { error: `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters` };
  const n = ANCHORED_NAME.exec(m[1])!;
  if (m[3] !== undefined) {
    const bad = validateDigest(m[3]);
    if (bad) return { error: bad };
  }
  return { ref: { name: m[1], domain: n[1] ?? '', path: n[2], tag: m[2], digest: m[3] } };
}

/** reference.ParseNormalizedNamed: alpine → docker.io/library/alpine, or the library's error text. */
export function parseNormalizedNamed(s: string): { ref: DockerRef } | { error: string } {
  if (/^[a-f0-9]{64}$/.test(s)) return { error: `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings` };
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) return { error: 'invalid reference format: repository name must be lowercase' };
  return parseReference(`${domain}/${remainder}`);
}

function matchReference(s: string): DockerRef | undefined {
  const r = parseReference(s);
  return 'ref' in r ? r.ref : undefined;
}

export interface NormalisedImage extends DockerRef {
  /** The name had no registry: CRI-O resolves it through registries.conf, the normaliser says docker.io. */
  shortName: boolean;
  /** A tag given together with a digest, which CRI-O drops before pulling. */
  droppedTag?: string;
}

/**
 * CRI-O's reading of an image name (internal/storage/references: ParseNormalizedNamed, then
 * TagNameOnly, and a tag given with a digest dropped): alpine → docker.io/library/alpine:latest.
 */
export function normaliseImage(input: string): NormalisedImage {
  if (/^[a-f0-9]{64}$/.test(input)) throw new UsageError(`${input} is an image ID, not a name: the policy judges names`, 'pass the image as REGISTRY/REPOSITORY:TAG or @sha256:DIGEST');
  // shortnames.Resolve parses the name as written first, then normalises it.
  const raw = parseReference(input);
  const parsed = 'error' in raw ? raw : parseNormalizedNamed(input);
  if ('error' in parsed) {
    const lower = /lowercase/.test(parsed.error);
    throw new UsageError(`${input} is not a valid image reference: the library refuses it (${parsed.error})`, lower ? 'write the repository in lowercase' : 'pass the image as REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:<64 hex>, e.g. 127.0.0.1:5003/alpine:3.20.3');
  }
  const ref = parsed.ref;
  const { domain } = ref;
  const shortName = domain === 'docker.io' && !/^(docker\.io|index\.docker\.io)\//.test(input);
  if (ref.digest) return { ...ref, tag: undefined, droppedTag: ref.tag, shortName };
  return { ...ref, tag: ref.tag ?? 'latest', shortName };
}

/** Wildcard namespaces of a host, port stripped: a.b.example.com → *.b.example.com, *.example.com, *.com. */
function wildcards(domain: string): string[] {
  const out: string[] = [];
  let host = domain.replace(/:.*$/, '');
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.')) {
    host = host.slice(dot + 1);
    out.push(`*.${host}`);
  }
  return out;
}

/**
 * The keys the library tries for a reference, most specific first: name:tag or name@digest, the
 * repository, each parent namespace, host[:port], then *.domain wildcards. After these the policy
 * tries transports.docker[""] and then default; registries.d tries default-docker.
 */
export function lookupChain(r: DockerRef): string[] {
  const chain = r.tag || r.digest ? [refIdentity(r)] : [];
  for (let name = r.name; ; name = name.slice(0, name.lastIndexOf('/'))) {
    chain.push(name);
    if (!name.includes('/')) break;
  }
  return [...chain, ...wildcards(r.domain)];
}

export type ParsedScope =
  | { kind: 'transport-default' }
  | { kind: 'wildcard'; domain: string }
  | { kind: 'host'; domain: string }
  | { kind: 'reference'; ref: DockerRef }
  | { kind: 'never-matches'; why: string; fix: string };

/** What a transports.docker key means to the library, or why no image name can ever produce it. */
export function parseScope(scope: string): ParsedScope {
  if (scope === '') return { kind: 'transport-default' };
  const never = (why: string, fix: string): ParsedScope => ({ kind: 'never-matches', why, fix });
  if (scope.startsWith('*.')) {
    const domain = scope.slice(2);
    if (domain.includes('/')) return never('a wildcard scope names hosts only: the library never produces "*.domain/path"', `use "*.${domain.split('/')[0]}", or list each host's namespace`);
    if (domain.includes(':')) return never('the library strips the port before it tries wildcards', `use "*.${domain.replace(/:.*$/, '')}"`);
    if (!ANCHORED_DOMAIN.test(domain)) return never('only a single leading "*." is a wildcard; the rest is taken literally', 'name the hosts explicitly, or use one leading "*.domain"');
    return { kind: 'wildcard', domain };
  }
  if (scope.includes('*')) {
    const parent = scope.replace(/\/\*+$/, '');
    const fix = parent !== scope && !parent.includes('*') ? `use "${parent}": a namespace already covers every repository under it` : 'drop the "*": only a leading "*." on a host is a wildcard';
    return never('scopes are matched literally: "*" is a wildcard only as a leading "*." of a host name', fix);
  }
  if (scope.includes('://')) return never('a scope is a registry name, not a URL', `use "${scope.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '')}"`);
  if (scope.endsWith('/')) return never('no image name ends with "/"', `use "${scope.replace(/\/+$/, '')}"`);
  const slash = scope.indexOf('/');
  const first = slash === -1 ? scope : scope.slice(0, slash);
  if (!/[.:]/.test(first) && first !== 'localhost') {
    const expanded = slash === -1 ? `docker.io/library/${scope}` : `docker.io/${scope}`;
    return never('the library expands every name to its registry first, so a scope must start with a host[:port]', `use "${expanded}"`);
  }
  if (first === 'index.docker.io') return never('index.docker.io is normalised to docker.io before the lookup', `use "${scope.replace(/^index\.docker\.io/, 'docker.io')}"`);
  if (slash === -1) {
    return ANCHORED_DOMAIN.test(scope) ? { kind: 'host', domain: scope } : never('not a valid host[:port]', 'write the registry as host or host:port');
  }
  const repo = scope.slice(slash + 1).replace(/[:@].*$/, '');
  if (repo !== repo.toLowerCase()) return never('repository names are lowercase, so a scope with capitals never matches', `use "${first}/${repo.toLowerCase()}"`);
  const ref = matchReference(scope);
  if (!ref) return never('not a valid image name, so no reference can produce it', 'write it as host[:port]/namespace/repository, optionally with :tag or @digest');
  if (ref.tag && ref.digest) return never('references with both a tag and a digest are refused by the library', `use "${ref.name}@${ref.digest}"`);
  return { kind: 'reference', ref };
}

/** The registries.d keys that apply to every image under a (matching) policy scope. */
export function scopeChain(parsed: ParsedScope): string[] {
  switch (parsed.kind) {
    case 'reference':
      return lookupChain(parsed.ref);
    case 'host':
      return [parsed.domain, ...wildcards(parsed.domain)];
    case 'wildcard':
      return [`*.${parsed.domain}`, ...wildcards(parsed.domain)];
    default:
      return [];
  }
}

/** Which transports.docker key decides for a reference: its key, or '' (transport default), or undefined (global default). */
export function decidingScope(scopes: Record<string, unknown>, r: DockerRef): string | undefined {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(scopes, k);
  return lookupChain(r).find(has) ?? (has('') ? '' : undefined);
}
