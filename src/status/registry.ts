// The local registry answers the distribution API, and the signed test image carries its cosign
// signature (the sha256-<digest>.sig tag) in it.
import { IMAGES, imageRef, registryAddress } from '../core/settings.js';
import { hasSignature, manifestDigest, signatureTag } from '../registry/client.js';
import type { Check } from './check.js';
import { check } from './check.js';

export interface RegistryFacts {
  /** HTTP status of GET /v2/, or the network error. */
  status?: number;
  error?: string;
}

const URL_V2 = `http://${registryAddress}/v2/`;

export function registryCheck(f: RegistryFacts): Check {
  const title = 'local registry';
  if (f.status === 200) return check('registry', title, 'ok', `${URL_V2} answers`);
  if (f.status !== undefined) return check('registry', title, 'warning', `${URL_V2} answered HTTP ${f.status}, not 200: another program on that port?`, { fix: `see what listens on ${registryAddress} (ss -ltnp)` });
  return check('registry', title, 'warning', `nothing answers on ${URL_V2} (${f.error ?? 'no answer'})`, { fix: 'crio-sigpoc setup-registry  (test starts it too)' });
}

export interface SignatureFacts {
  /** The digest the signed image's tag points to; undefined when the tag is not there. */
  digest?: string;
  signed?: boolean;
  error?: string;
}

export function signatureCheck(f: SignatureFacts): Check {
  const title = 'signed test image';
  const image = imageRef(IMAGES.signed);
  if (f.error) return check('signature', title, 'warning', `could not look up ${image}: ${f.error}`);
  if (!f.digest) return check('signature', title, 'warning', `${image} is not in the registry yet`, { fix: 'crio-sigpoc sign-image  (test does it too)' });
  if (!f.signed) return check('signature', title, 'warning', `${image} (${f.digest}) has no cosign signature: no ${signatureTag(f.digest)} tag`, { fix: 'crio-sigpoc sign-image' });
  return check('signature', title, 'ok', `${image} → ${f.digest}, signed (${signatureTag(f.digest)})`);
}

export async function registryFacts(timeoutMs: number): Promise<RegistryFacts> {
  try {
    const r = await fetch(URL_V2, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: r.status };
  } catch (e) {
    // fetch hides the socket error (ECONNREFUSED…) in its cause.
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code) return { error: code };
    return { error: (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e as Error).message };
  }
}

export async function signatureFacts(): Promise<SignatureFacts> {
  try {
    const digest = await manifestDigest(IMAGES.signed.repository, IMAGES.signed.tag);
    return digest ? { digest, signed: await hasSignature(IMAGES.signed.repository, digest) } : {};
  } catch (e) {
    return { error: (e as Error).message };
  }
}
