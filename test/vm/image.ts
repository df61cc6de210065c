// The guest image: Debian 12 from Debian's packages (mmdebstrap), its own kernel and initrd, an
// ext4 disk made without loop mounts (mkfs.ext4 -d), a normal user with sudo and an ssh key made
// for this image. Cached under <cache>/vm/<hash of the recipe>/, so a second run only boots it.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { defaultCacheDir } from '../../src/core/context.js';
import { LAB_PACKAGES } from '../../src/setup/index.js';

export const GUEST_USER = 'user';

/** What the image holds besides a bootable base: the Debian packages the README's flow needs. */
const BASE_PACKAGES = ['systemd-sysv', 'udev', 'dbus', 'linux-image-amd64', 'initramfs-tools', 'openssh-server', 'iproute2', 'ca-certificates', 'sudo', 'kmod', 'procps'];
/** Debian 12's Node.js 18 and npm: what a user has after `apt install nodejs npm`; install.sh replaces the too-old Node. */
const NODE_PACKAGES = ['nodejs', 'npm'];
/** Timers that would start apt or disk jobs in the middle of a run. */
const MASKED_UNITS = ['apt-daily.timer', 'apt-daily-upgrade.timer', 'man-db.timer', 'e2scrub_all.timer', 'fstrim.timer'];

/** The 9p shares the guest mounts: the checkout (read-only) and the host's Go binary cache. */
export const SHARES = {
  checkout: '/mnt/checkout',
  gocache: '/var/cache/crio-sigpoc/go',
} as const;

const ninep = (tag: string, at: string): string => `${tag} ${at} 9p trans=virtio,version=9p2000.L,ro,msize=262144,nofail 0 0`;

export const RECIPE = {
  version: 1,
  suite: 'bookworm',
  variant: 'apt',
  packages: [...BASE_PACKAGES, ...NODE_PACKAGES, ...LAB_PACKAGES.map((p) => p.name)].sort(),
  aptopt: ['Acquire::Check-Valid-Until "false"', 'APT::Install-Recommends "false"'],
  diskSize: '8G',
  masked: MASKED_UNITS,
  enabled: ['systemd-networkd.service'],
  user: GUEST_USER,
  files: {
    '/etc/hostname': 'crio-sigpoc-vm\n',
    '/etc/hosts': '127.0.0.1 localhost\n127.0.1.1 crio-sigpoc-vm\n::1 localhost ip6-localhost ip6-loopback\n',
    '/etc/resolv.conf': 'nameserver 10.0.2.3\n',
    '/etc/fstab': ['/dev/vda / ext4 rw,errors=remount-ro 0 1', ninep('checkout', SHARES.checkout), ninep('gocache', SHARES.gocache), ''].join('\n'),
    '/etc/systemd/network/10-user-net.network': '[Match]\nName=e*\n\n[Network]\nDHCP=ipv4\n',
    [`/etc/sudoers.d/90-${GUEST_USER}`]: `${GUEST_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n`,
  } as Record<string, string>,
};

export const recipeHash = (): string => createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 16);

export interface GuestImage {
  dir: string;
  disk: string;
  kernel: string;
  initrd: string;
  key: string;
  knownHosts: string;
}

/** The guest images, in the tool's own cache (the suite runs as root: /var/cache/crio-sigpoc, or CRIO_SIGPOC_CACHE_DIR). */
export const cacheRoot = (): string => path.join(defaultCacheDir(), 'vm');

const layout = (dir: string): GuestImage => ({
  dir,
  disk: path.join(dir, 'disk.raw'),
  kernel: path.join(dir, 'vmlinuz'),
  initrd: path.join(dir, 'initrd.img'),
  key: path.join(dir, 'id_ed25519'),
  knownHosts: path.join(dir, 'known_hosts'),
});

const exists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);

/** Host programs the image build and the guest need, with the Debian package that has each. */
export const HOST_PROGRAMS: Record<string, string> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  mmdebstrap: 'mmdebstrap',
  'mkfs.ext4': 'e2fsprogs',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
};

export async function requireHostPrograms(): Promise<void> {
  const missing: string[] = [];
  for (const [prog, pkg] of Object.entries(HOST_PROGRAMS)) {
    const r = await execa('sh', ['-c', 'command -v "$1"', 'sh', prog], { reject: false });
    if (r.exitCode !== 0) missing.push(`${prog} (Debian package ${pkg})`);
  }
  if (missing.length) {
    const pkgs = [...new Set(missing.map((m) => m.replace(/.*package (.*)\)$/, '$1')))].join(' ');
    throw new Error(`the guest suite needs ${missing.join(', ')}: apt-get install --no-install-recommends ${pkgs}`);
  }
  if (process.getuid?.() !== 0) throw new Error('the guest image is built as root (mmdebstrap, files owned by root in the image): run the guest suite as root');
}

/** The cached image for the current recipe, built first when absent. */
export async function guestImage(log: (s: string) => void): Promise<{ image: GuestImage; built: boolean; seconds: number }> {
  const root = cacheRoot();
  const dir = path.join(root, recipeHash());
  const image = layout(dir);
  if (await exists(path.join(dir, 'recipe.json'))) return { image, built: false, seconds: 0 };
  const started = Date.now();
  await buildImage(root, dir, log);
  return { image, built: true, seconds: Math.round((Date.now() - started) / 1000) };
}

/** Mount points at or below dir (mmdebstrap mounts /proc, /sys and /dev in the rootfs while it works). */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const points = info.split('\n').map((l) => l.split(' ')[4]).filter((p): p is string => Boolean(p));
  return points.filter((p) => p === dir || p.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/** rm -rf of a build directory, never through a mount of the host's /proc, /sys or /dev. */
async function removeBuildDir(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) await execa('umount', [m], { reject: false });
  const left = await mountsUnder(dir);
  if (left.length) throw new Error(`${dir} still has mounts (${left.join(', ')}): unmount them, then remove it`);
  await fs.rm(dir, { recursive: true, force: true });
}

async function buildImage(root: string, dir: string, log: (s: string) => void): Promise<void> {
  await fs.mkdir(root, { recursive: true });
  // Builds killed half-way (of this recipe or another) leave their directories behind.
  for (const other of await fs.readdir(root)) if (/\.build-\d+$/.test(other) && !(await pidAlive(Number(other.split('-').pop())))) await removeBuildDir(path.join(root, other));
  const tmp = `${dir}.build-${process.pid}`;
  await fs.mkdir(tmp);
  const rootfs = path.join(tmp, 'rootfs');
  const t = layout(tmp);
  try {
    log(`building the guest image ${path.basename(dir)} (mmdebstrap ${RECIPE.suite}, ${RECIPE.packages.length} packages)`);
    await step(tmp, 'mmdebstrap', [
      `--variant=${RECIPE.variant}`,
      `--include=${RECIPE.packages.join(',')}`,
      ...RECIPE.aptopt.map((o) => `--aptopt=${o}`),
      RECIPE.suite,
      rootfs,
    ]);
    for (const [p, text] of Object.entries(RECIPE.files)) {
      const target = path.join(rootfs, p);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rm(target, { force: true });
      await fs.writeFile(target, text, { mode: p.startsWith('/etc/sudoers.d/') ? 0o440 : 0o644 });
    }
    for (const m of Object.values(SHARES)) await fs.mkdir(path.join(rootfs, m), { recursive: true });
    await step(tmp, 'chroot', [rootfs, 'systemctl', 'mask', ...RECIPE.masked]);
    await step(tmp, 'chroot', [rootfs, 'systemctl', 'enable', ...RECIPE.enabled]);
    await step(tmp, 'chroot', [rootfs, 'useradd', '--create-home', '--shell', '/bin/bash', '--groups', 'sudo', RECIPE.user]);
    await step(tmp, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'crio-sigpoc-vm', '-f', t.key]);
    const home = path.join(rootfs, 'home', RECIPE.user);
    await fs.mkdir(path.join(home, '.ssh'), { mode: 0o700 });
    await fs.copyFile(`${t.key}.pub`, path.join(home, '.ssh', 'authorized_keys'));
    const ids = await fs.stat(home);
    for (const p of ['.ssh', '.ssh/authorized_keys']) await fs.chown(path.join(home, p), ids.uid, ids.gid);
    // The image's own host key: the harness checks it instead of trusting whatever answers.
    const hostKey = (await fs.readFile(path.join(rootfs, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    await fs.writeFile(t.knownHosts, `crio-sigpoc-vm ${hostKey}\n`);
    const boot = await fs.readdir(path.join(rootfs, 'boot'));
    const pick = (prefix: string): string => {
      const f = boot.filter((n) => n.startsWith(prefix)).sort().pop();
      if (!f) throw new Error(`the image has no /boot/${prefix}*`);
      return path.join(rootfs, 'boot', f);
    };
    await fs.copyFile(pick('vmlinuz-'), t.kernel);
    await fs.copyFile(pick('initrd.img-'), t.initrd);
    await step(tmp, 'mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', rootfs, t.disk, RECIPE.diskSize]);
    await removeBuildDir(rootfs);
    await fs.writeFile(path.join(tmp, 'recipe.json'), JSON.stringify(RECIPE, null, 2) + '\n');
    await fs.rename(tmp, dir);
  } catch (e) {
    await removeBuildDir(tmp);
    throw e;
  }
  // Older recipes' images are of no further use: keep only this one.
  for (const other of await fs.readdir(root)) if (other !== path.basename(dir) && /^[0-9a-f]{16}$/.test(other)) await fs.rm(path.join(root, other), { recursive: true, force: true });
}

async function pidAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function step(dir: string, file: string, args: string[]): Promise<void> {
  const logFile = path.join(dir, 'build.log');
  await fs.appendFile(logFile, `$ ${file} ${args.join(' ')}\n`);
  const to = { file: logFile, append: true } as const;
  const r = await execa(file, args, { reject: false, stdin: 'ignore', stdout: to, stderr: to, timeout: 20 * 60_000 });
  if (r.exitCode !== 0) {
    const tail = (await fs.readFile(logFile, 'utf8')).split('\n').slice(-30).join('\n');
    throw new Error(`image build: ${file} failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}); the end of ${logFile}:\n${tail}`);
  }
}
