// What users expect CRI-O to verify and it cannot, said where the policy touches it. CRI-O checks
// signatures through the containers/image library (podman-container-tools/container-libs), which
// knows GPG simple signing and cosign's legacy signatures only.

/** The upstream threads a user can follow. */
export const UPSTREAM = {
  bundles: 'https://github.com/podman-container-tools/container-libs/pull/1153',
  identityPatterns: 'https://github.com/podman-container-tools/container-libs/issues/34',
  notation: 'https://github.com/podman-container-tools/podman/issues/15559',
} as const;

export const BUNDLE_NOTE = `cosign v3 signs by default in the Sigstore bundle format (an OCI 1.1 referrer), which CRI-O does not read: such an image is refused as unsigned although \`cosign verify\` passes. Sign with --new-bundle-format=false --use-signing-config=false (and --tlog-upload=false for key-only signing); bundle verification is proposed upstream: ${UPSTREAM.bundles}`;
export const IDENTITY_NOTE = `keyless (fulcio) identities match exactly: oidcIssuer and subjectEmail are compared as written, with no patterns for a workflow or a branch family (${UPSTREAM.identityPatterns})`;
export const NOTATION_NOTE = `CRI-O cannot verify Notation (Notary v2) signatures: the library knows GPG simple signing (signedBy) and cosign (sigstoreSigned) only (${UPSTREAM.notation})`;

export const PKI_CHAIN_NOTE = 'cosign v3 does not put the certificate chain into a signature made with --certificate-chain, so CRI-O sees the leaf only: a pki requirement without caIntermediatesPath refuses every leaf issued by an intermediate CA (list the intermediates there)';

/** Every requirement object in the policy, wherever it sits (default, transports, misplaced tables). */
function requirements(doc: unknown, out: Record<string, unknown>[] = [], depth = 0): Record<string, unknown>[] {
  if (depth > 6 || typeof doc !== 'object' || doc === null) return out;
  if (Array.isArray(doc)) {
    for (const r of doc) if (typeof r === 'object' && r !== null && !Array.isArray(r) && 'type' in r) out.push(r as Record<string, unknown>);
    return out;
  }
  for (const v of Object.values(doc)) requirements(v, out, depth + 1);
  return out;
}

/** The notes for what this policy asks of CRI-O that it cannot do, once each. */
export function limitNotes(doc: unknown): string[] {
  const reqs = requirements(doc);
  const notes: string[] = [];
  const sigstore = reqs.filter((r) => r.type === 'sigstoreSigned');
  if (sigstore.length) notes.push(BUNDLE_NOTE);
  if (sigstore.some((r) => r.fulcio !== undefined)) notes.push(IDENTITY_NOTE);
  const pki = sigstore.map((r) => r.pki).filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null);
  if (pki.some((p) => p.caIntermediatesPath === undefined && p.caIntermediatesData === undefined)) notes.push(PKI_CHAIN_NOTE);
  if (reqs.some((r) => typeof r.type === 'string' && /notation|notary/i.test(r.type))) notes.push(NOTATION_NOTE);
  return notes;
}
