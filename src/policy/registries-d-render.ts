// registries.d (containers-registries.d(5)): where the library looks for signatures.
// use-sigstore-attachments is what makes it fetch cosign's sha256-<digest>.sig manifests; the
// `sigstore:` key is the old name of `lookaside` (GPG signatures) and does not do that.
import { stringify } from 'yaml';

export interface RegistriesDFile {
  docker: Record<string, { 'use-sigstore-attachments': boolean }>;
}

export function renderRegistriesD(scopes: string[]): RegistriesDFile {
  return { docker: Object.fromEntries(scopes.map((s) => [s, { 'use-sigstore-attachments': true }])) };
}

export const registriesDText = (r: RegistriesDFile): string => stringify(r);
