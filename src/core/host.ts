// Facts about the machine setup configures, read under --root so that tests can fake a VM.
import { promises as fs } from 'node:fs';
import type { Context } from './context.js';
import { pathExists } from './fs-exists.js';
import { underRoot } from './root.js';

export interface Host {
  /** os-release ID and VERSION_ID, e.g. 'ubuntu' and '24.04'. */
  id: string;
  versionId: string;
  prettyName: string;
  /** PID 1 is systemd: the cgroup manager and the service layer follow it. */
  systemd: boolean;
  cgroupV2: boolean;
  /** Release-asset spelling of the CPU: amd64, arm64, ... */
  arch: string;
}

export const SUPPORTED = [
  { id: 'ubuntu', versionId: '24.04', name: 'Ubuntu 24.04' },
  { id: 'debian', versionId: '12', name: 'Debian 12' },
] as const;

export const isSupported = (h: Host): boolean => SUPPORTED.some((s) => s.id === h.id && s.versionId === h.versionId);

/** os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    out[m[1]] = m[2].replace(/^(["'])(.*)\1$/, '$2').replace(/\\(.)/g, '$1');
  }
  return out;
}

/** Go's and the release assets' names for Node's process.arch. */
export const releaseArch = (nodeArch: string = process.arch): string => ({ x64: 'amd64', ia32: '386', ppc64: 'ppc64le' })[nodeArch] ?? nodeArch;

export async function detectHost(root: string): Promise<Host> {
  const at = (p: string): string => underRoot(root, p);
  // os-release(5): /etc/os-release wins, /usr/lib/os-release is the fallback.
  const text = (await fs.readFile(at('/etc/os-release'), 'utf8').catch(() => undefined)) ?? (await fs.readFile(at('/usr/lib/os-release'), 'utf8').catch(() => ''));
  const rel = parseOsRelease(text);
  return {
    id: rel.ID ?? 'unknown',
    versionId: rel.VERSION_ID ?? '',
    prettyName: rel.PRETTY_NAME ?? (rel.NAME ? `${rel.NAME} ${rel.VERSION_ID ?? ''}`.trim() : 'an unknown system'),
    // sd_booted(3): systemd is PID 1 exactly when this directory exists.
    systemd: await pathExists(at('/run/systemd/system')),
    cgroupV2: await pathExists(at('/sys/fs/cgroup/cgroup.controllers')),
    arch: releaseArch(),
  };
}

/** One line for people: what setup found and what follows from it. */
export const describeHost = (h: Host): string =>
  `${h.prettyName}, ${h.arch}, PID 1 ${h.systemd ? 'is systemd' : 'is not systemd'}, cgroup ${h.cgroupV2 ? 'v2' : 'v1 (or hybrid)'}`;

/** The host of this run, read once. */
export const hostOf = (ctx: Context): Promise<Host> => ctx.memo('host', () => detectHost(ctx.opts.root));

