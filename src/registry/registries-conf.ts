// A registries.conf.d drop-in marking the local registry as plain HTTP: without it the
// containers library insists on TLS and every pull fails before any signature is looked at.
import { stringify } from 'smol-toml';

export function renderInsecureRegistry(locations: string[]): string {
  return (
    '# Written by crio-sigpoc: the local test registry speaks plain HTTP on loopback.\n' +
    stringify({ registry: locations.map((location) => ({ location, insecure: true })) }) +
    '\n'
  );
}
