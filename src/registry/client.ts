// The registry's HTTP API (distribution spec): read-only questions about tags and digests.
import { createHash } from 'node:crypto';
import { checkedDigest } from './digest.js';
import { EnvironmentError } from '../core/errors.js';

const REGISTRY_NEXT = 'crio-sigpoc status  (then: crio-sigpoc setup-registry)';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Splits "127.0.0.1:5003/unsigned/alpine" into the registry and the repository path. */
export function splitRepository(repository: string): { registry: string; path: string } {
  const i = repository.indexOf('/');
  return { registry: repository.slice(0, i), path: repository.slice(i + 1) };
}

export const manifestUrl = (repository: string, reference: string): string => {
  const { registry, path } = splitRepository(repository);
  return `http://${registry}/v2/${path}/manifests/${reference}`;
};

/** The manifest digest a tag points to, or undefined when the tag does not exist. */
export async function manifestDigest(repository: string, reference: string): Promise<string | undefined> {
  const r = await fetch(manifestUrl(repository, reference), {
    method: 'HEAD',
    headers: { Accept: MANIFEST_TYPES },
    signal: AbortSignal.timeout(5_000),
  });
  if (r.status === 404) return undefined;
  if (!r.ok) throw new EnvironmentError(`registry answered ${r.status} for ${repository}:${reference}`, REGISTRY_NEXT);
  const digest = r.headers.get('docker-content-digest');
  return digest === null ? undefined : checkedDigest(digest, `the registry's Docker-Content-Digest for ${repository}:${reference}`);
}

/** The bytes of the manifest with this digest, checked against it: what a simple signature signs. */
export async function manifestBytes(repository: string, digest: string): Promise<Buffer> {
  const r = await fetch(manifestUrl(repository, digest), { headers: { Accept: MANIFEST_TYPES }, signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw new EnvironmentError(`registry answered ${r.status} for ${repository}@${digest}`, REGISTRY_NEXT);
  const bytes = Buffer.from(await r.arrayBuffer());
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (got !== digest) throw new EnvironmentError(`the registry served bytes digesting to ${got} for ${repository}@${digest}: not signing`, REGISTRY_NEXT);
  return bytes;
}

/** cosign's key-pair signature for a digest is the tag sha256-<hex>.sig in the same repository. */
export const signatureTag = (digest: string): string => `${digest.replace(':', '-')}.sig`;

export async function hasSignature(repository: string, digest: string): Promise<boolean> {
  return (await manifestDigest(repository, signatureTag(digest))) !== undefined;
}

/** How many signatures cosign's .sig manifest for a digest holds (one layer each); 0 when there is none. */
export async function signatureCount(repository: string, digest: string): Promise<number> {
  const r = await fetch(manifestUrl(repository, signatureTag(digest)), { headers: { Accept: MANIFEST_TYPES }, signal: AbortSignal.timeout(5_000) });
  if (r.status === 404) return 0;
  if (!r.ok) throw new EnvironmentError(`registry answered ${r.status} for the signatures of ${repository}@${digest}`, REGISTRY_NEXT);
  const layers = ((await r.json()) as { layers?: unknown[] }).layers;
  return Array.isArray(layers) ? layers.length : 0;
}

const MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** Pushes a manifest list over existing manifests of the same repository; returns its digest. */
export async function putIndex(repository: string, tag: string, entries: { digest: string; platform: { os: string; architecture: string } }[]): Promise<string> {
  const manifests = [];
  for (const e of entries) {
    const head = await fetch(manifestUrl(repository, e.digest), { method: 'HEAD', headers: { Accept: MANIFEST_TYPES }, signal: AbortSignal.timeout(5_000) });
    if (!head.ok) throw new EnvironmentError(`registry answered ${head.status} for ${repository}@${e.digest}`, REGISTRY_NEXT);
    manifests.push({ mediaType: head.headers.get('content-type'), size: Number(head.headers.get('content-length')), digest: e.digest, platform: e.platform });
  }
  const body = JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_LIST, manifests });
  const r = await fetch(manifestUrl(repository, tag), { method: 'PUT', headers: { 'Content-Type': MANIFEST_LIST }, body, signal: AbortSignal.timeout(10_000) });
  const digest = r.headers.get('docker-content-digest');
  if (!r.ok || !digest) throw new EnvironmentError(`registry refused the manifest list for ${repository}:${tag}: ${r.status} ${await r.text()}`, REGISTRY_NEXT);
  // The digest of the bytes sent is what gets signed; a registry that reports another is not trusted.
  const sent = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  if (checkedDigest(digest, `the registry's Docker-Content-Digest for ${repository}:${tag}`) !== sent) {
    throw new EnvironmentError(`the registry stored the manifest list for ${repository}:${tag} as ${digest}, but its bytes digest to ${sent}: not signing`, REGISTRY_NEXT);
  }
  return sent;
}
