// The end-to-end suite drives the built CLI (dist/cli.js) against the real lab on this machine:
// CRI-O, crictl, cosign, the registry and dockerd are the real programs, nothing is faked.
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import assert from 'node:assert/strict';
import path from 'node:path';
import { snapshot } from '../helpers/tree.js';
import { MATRIX } from '../../src/verify/matrix/cases.js';
import { ALL_OF_NAMESPACE, ANY_KEY_NAMESPACE, GPG_NAMESPACE, OPEN_NAMESPACE, PKI_NAMESPACE } from '../../src/verify/matrix/lab-config.js';

/** The namespace a matrix case pulls in (undefined: none, as crictl pull without --pod-config). */
export const namespaceOf = (caseName: string): string | undefined => MATRIX.find((c) => c.name === caseName)?.namespace;
/** The policy file CRI-O applies to a pull in a namespace: its own, where the matrix gave it one; the global one otherwise. */
export const policyFileFor = (ns: string | undefined): string =>
  ns && [OPEN_NAMESPACE, ANY_KEY_NAMESPACE, ALL_OF_NAMESPACE, PKI_NAMESPACE, GPG_NAMESPACE].includes(ns) ? `/etc/crio/policies/${ns}.json` : '/etc/crio/policy.json';

export const repo = path.resolve(import.meta.dirname, '../..');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function sigpoc(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await execa(process.execPath, [path.join(repo, 'dist/cli.js'), ...args], {
    env: { NO_COLOR: '1', ...env },
    reject: false,
    stdin: 'ignore',
    timeout: 3_000_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The JSON document of a --json run, or a failure that shows what the command printed. */
export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  }
}

export const explain = (r: CliResult): string => `exit ${r.exitCode}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/**
 * Every system location the tool writes to, hashed file by file. (/etc/systemd/system is left out:
 * only apt's packages write there on this machine, and packages stay installed after clean-all.)
 */
export async function systemSnapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const dir of ['/etc/crio', '/etc/containers', '/etc/cni', '/usr/local/bin']) {
    const snap = await snapshot(dir).catch(() => ({}));
    for (const [k, v] of Object.entries(snap)) out[path.join(dir, k)] = v;
  }
  return out;
}

/**
 * The system as it was, but for files a Debian package brought while the suite ran (setup installs
 * packages, and packages stay installed after clean-all): each file the snapshot held is back byte
 * for byte, and each new one belongs to a package, none to the tool.
 */
export async function assertSystemRestored(pristine: Record<string, string>): Promise<void> {
  const now = await systemSnapshot();
  const added = Object.keys(now).filter((f) => !(f in pristine));
  const byPackages = new Set<string>();
  if (added.length) {
    const owned = await execa('dpkg-query', ['-S', ...added], { reject: false });
    for (const line of String(owned.stdout).split('\n')) {
      const m = /^[^:]+(?::[^:]+)?: (\/.*)$/.exec(line);
      if (m) byPackages.add(m[1]);
    }
  }
  const kept = Object.fromEntries(Object.entries(now).filter(([f]) => !byPackages.has(f) || f in pristine));
  assert.deepEqual(kept, pristine);
}

/** Live processes of that name; a zombie has exited and only waits for init to collect it. */
export async function running(name: string): Promise<number[]> {
  const r = await execa('pgrep', ['-x', name], { reject: false });
  const pids = String(r.stdout).split('\n').filter(Boolean).map(Number);
  const live = await Promise.all(pids.map((pid) => fs.readFile(`/proc/${pid}/stat`, 'utf8').then((s) => s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) !== 'Z', () => false)));
  return pids.filter((_, i) => live[i]);
}
