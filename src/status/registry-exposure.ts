// Two things the original proof silently relied on: the containers library must be told the
// local registry speaks plain HTTP, and the registry must not be reachable from other hosts.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { listeningSockets } from '../core/proc.js';
import { REGISTRY, registryAddress, SYSTEM_PATHS } from '../core/settings.js';
import type { Check } from './check.js';
import { check } from './check.js';

/** The registries.conf files in the library's order: the main file, then the drop-ins by name. */
async function registriesConfTexts(ctx: Context): Promise<{ file: string; text: string }[]> {
  const main = '/etc/containers/registries.conf';
  const names = (await fs.readdir(ctx.sys(SYSTEM_PATHS.registriesConfD)).catch(() => [] as string[])).filter((n) => n.endsWith('.conf')).sort();
  const files = [main, ...names.map((n) => path.join(SYSTEM_PATHS.registriesConfD, n))];
  const out = [];
  for (const file of files) {
    const text = await fs.readFile(ctx.sys(file), 'utf8').catch(() => undefined);
    if (text !== undefined) out.push({ file, text });
  }
  return out;
}

/** Which file, if any, marks location as insecure (plain HTTP); later files win, as in the library. */
export async function plainHttpMarking(texts: { file: string; text: string }[], location = registryAddress): Promise<{ file?: string; insecure: boolean }> {
  const { parse } = await import('smol-toml');
  let found: { file?: string; insecure: boolean } = { insecure: false };
  for (const { file, text } of texts) {
    let doc: { registry?: { location?: string; prefix?: string; insecure?: boolean }[] };
    try {
      doc = parse(text) as typeof doc;
    } catch {
      continue;
    }
    for (const r of doc.registry ?? []) {
      if ((r.location ?? r.prefix) === location && r.insecure !== undefined) found = { file, insecure: r.insecure };
    }
  }
  return found;
}

export function plainHttpCheck(m: { file?: string; insecure: boolean }): Check {
  const title = 'local registry marked plain HTTP';
  if (m.insecure) return check('registry-plain-http', title, 'ok', `${registryAddress} is insecure = true in ${m.file}`);
  return check('registry-plain-http', title, 'problem', `no registries.conf(.d) entry marks ${registryAddress} insecure: every pull from it fails on TLS before any signature is looked at`, {
    fix: 'crio-sigpoc setup-registry  (writes ' + SYSTEM_PATHS.registriesConfDropin + ')',
  });
}

export function loopbackCheck(listeners: string[]): Check {
  const title = 'local registry on loopback only';
  if (!listeners.length) return check('registry-loopback', title, 'warning', `nothing listens on port ${REGISTRY.port}`, { fix: 'crio-sigpoc setup-registry' });
  const exposed = listeners.filter((a) => !(a.startsWith('127.') || a === '::1'));
  if (exposed.length) {
    return check('registry-loopback', title, 'problem', `port ${REGISTRY.port} is open on ${exposed.join(', ')}: the test registry (plain HTTP, no auth) is reachable from other hosts`, {
      fix: `stop what listens there (ss -ltnp 'sport = :${REGISTRY.port}'), then: crio-sigpoc setup-registry`,
    });
  }
  return check('registry-loopback', title, 'ok', `listening on ${listeners.join(', ')} only`);
}

export async function registryExposureChecks(ctx: Context): Promise<Check[]> {
  const [texts, tcp] = await Promise.all([
    registriesConfTexts(ctx),
    Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => fs.readFile(f, 'utf8').catch(() => ''))),
  ]);
  return [plainHttpCheck(await plainHttpMarking(texts)), loopbackCheck(tcp.flatMap((t) => listeningSockets(t, REGISTRY.port).map((l) => l.addr)))];
}
