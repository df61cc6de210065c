// Every system file the tool touches goes through here: validated by the caller, written
// atomically, the original backed up once, and put back byte for byte by restoreAll (clean-all).
import { createHash } from 'node:crypto';
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import type { Runner } from './command.js';
import { must } from './command.js';
import type { Recorder } from './plan.js';
import { pathExists } from './fs-exists.js';

interface LedgerEntry {
  /** null: the file did not exist before the tool wrote it. */
  backup: string | null;
  mode: number | null;
  installedSha256: string;
  /** Directories the first write had to create (outermost first): clean-all removes them when empty. */
  createdDirs?: string[];
}
type Ledger = Record<string, LedgerEntry>;

export interface RestoreResult {
  path: string;
  action: 'restored' | 'removed' | 'already-original' | 'missing-backup';
}

export class SystemFiles {
  constructor(
    private readonly opts: {
      root: string;
      stateDir: string;
      runner: Runner;
      recorder: Recorder;
      dryRun: boolean;
      direct: boolean;
    },
  ) {}

  /** The real path of a system path under --root. */
  sys(p: string): string {
    return this.opts.root === '/' ? p : path.join(this.opts.root, p);
  }

  private get ledgerFile(): string {
    return path.join(this.opts.stateDir, 'ledger.json');
  }

  async ledger(): Promise<Ledger> {
    try {
      return JSON.parse(await fs.readFile(this.ledgerFile, 'utf8')) as Ledger;
    } catch {
      return {};
    }
  }

  private async saveLedger(l: Ledger): Promise<void> {
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await fs.mkdir(this.opts.stateDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.ledgerFile, JSON.stringify(l, null, 2) + '\n', { mode: 0o600 });
  }

  async read(p: string): Promise<string | undefined> {
    const buf = await this.readBytes(p);
    return buf?.toString('utf8');
  }

  async readBytes(p: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.sys(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if ((e as NodeJS.ErrnoException).code === 'EACCES' && !this.opts.direct) {
        const r = await this.opts.runner.run({ file: 'cat', args: ['--', this.sys(p)], privileged: true, readOnly: true });
        return r.exitCode === 0 ? Buffer.from(r.stdout) : undefined;
      }
      throw e;
    }
  }

  async exists(p: string): Promise<boolean> {
    try {
      await fs.access(this.sys(p), fsc.F_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** Is the file already exactly this content (and mode)? */
  async matches(p: string, content: string | Buffer, mode?: number): Promise<boolean> {
    const cur = await this.readBytes(p);
    if (!cur || !cur.equals(Buffer.from(content))) return false;
    if (mode === undefined) return true;
    const st = await fs.stat(this.sys(p));
    return (st.mode & 0o7777) === mode;
  }

  /** Installs content at a system path; a no-op when it is already there. */
  async install(p: string, content: string | Buffer, mode = 0o644): Promise<'unchanged' | 'written'> {
    if (await this.matches(p, content, mode)) return 'unchanged';
    const target = this.sys(p);
    if (this.opts.dryRun) {
      this.opts.recorder.write(target, content, mode);
      return 'written';
    }
    await this.backupOnce(target);
    this.opts.recorder.write(target, content, mode);
    if (this.opts.direct) {
      const { default: writeFileAtomic } = await import('write-file-atomic');
      await fs.mkdir(path.dirname(target), { recursive: true });
      await writeFileAtomic(target, content, { mode });
      await fs.chmod(target, mode);
    } else {
      const staged = path.join(this.opts.stateDir, 'staging', path.basename(target));
      await fs.mkdir(path.dirname(staged), { recursive: true, mode: 0o700 });
      await fs.writeFile(staged, content, { mode: 0o600 });
      await this.sudoPlace(staged, target, mode);
      await fs.rm(staged, { force: true });
    }
    await this.record(target, sha256(content));
    return 'written';
  }

  /** Installs a file (a built binary) by copying it; a no-op when the same bytes are there. */
  async installFile(p: string, source: string, mode = 0o755): Promise<'unchanged' | 'written'> {
    const content = await fs.readFile(source);
    return this.install(p, content, mode);
  }

  async remove(p: string): Promise<'unchanged' | 'removed'> {
    if (!(await this.exists(p))) return 'unchanged';
    const target = this.sys(p);
    this.opts.recorder.remove(target);
    if (this.opts.dryRun) return 'removed';
    await this.backupOnce(target);
    if (this.opts.direct) await fs.rm(target, { force: true });
    else await must(this.opts.runner, { file: 'rm', args: ['-f', '--', target], privileged: true });
    await this.record(target, 'absent');
    return 'removed';
  }

  /** Puts back every file the ledger knows, then forgets them. */
  async restoreAll(): Promise<RestoreResult[]> {
    const l = await this.ledger();
    const out: RestoreResult[] = [];
    for (const [target, entry] of Object.entries(l).reverse()) {
      if (entry.backup === null) {
        if (await pathExists(target)) {
          if (this.opts.dryRun) this.opts.recorder.remove(target);
          else await this.rmAbs(target);
          out.push({ path: target, action: 'removed' });
        } else out.push({ path: target, action: 'already-original' });
        if (!this.opts.dryRun) for (const dir of [...(entry.createdDirs ?? [])].reverse()) await this.rmdirIfEmpty(dir);
      } else {
        const original = await fs.readFile(entry.backup).catch(() => undefined);
        if (!original) {
          out.push({ path: target, action: 'missing-backup' });
          continue;
        }
        const mode = entry.mode ?? 0o644;
        const current = await fs.readFile(target).catch(() => undefined);
        if (current?.equals(original)) {
          out.push({ path: target, action: 'already-original' });
        } else {
          if (this.opts.dryRun) this.opts.recorder.write(target, original, mode);
          else if (this.opts.direct) {
            const { default: writeFileAtomic } = await import('write-file-atomic');
            await fs.mkdir(path.dirname(target), { recursive: true });
            await writeFileAtomic(target, original, { mode });
            await fs.chmod(target, mode);
          } else await this.sudoPlace(entry.backup, target, mode);
          out.push({ path: target, action: 'restored' });
        }
      }
      if (!this.opts.dryRun) delete l[target];
    }
    if (!this.opts.dryRun) {
      await this.saveLedger(l);
      if (Object.keys(l).length === 0) await fs.rm(path.join(this.opts.stateDir, 'backups'), { recursive: true, force: true });
    }
    return out;
  }

  private async backupOnce(target: string): Promise<void> {
    const l = await this.ledger();
    if (l[target]) return;
    let backup: string | null = null;
    let mode: number | null = null;
    const st = await fs.stat(target).catch(() => undefined);
    if (st) {
      const dir = path.join(this.opts.stateDir, 'backups');
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      backup = path.join(dir, `${sha256(target).slice(0, 16)}-${path.basename(target)}`);
      const bytes = this.opts.direct ? await fs.readFile(target) : Buffer.from((await must(this.opts.runner, { file: 'cat', args: ['--', target], privileged: true, readOnly: true })).stdout);
      await fs.writeFile(backup, bytes, { mode: 0o600 });
      mode = st.mode & 0o7777;
    }
    const createdDirs: string[] = [];
    if (!st) for (let dir = path.dirname(target); !(await pathExists(dir)); dir = path.dirname(dir)) createdDirs.unshift(dir);
    l[target] = { backup, mode, installedSha256: '', ...(createdDirs.length ? { createdDirs } : {}) };
    await this.saveLedger(l);
  }

  private async record(target: string, sha: string): Promise<void> {
    const l = await this.ledger();
    if (l[target]) l[target].installedSha256 = sha;
    await this.saveLedger(l);
  }

  private async rmAbs(target: string): Promise<void> {
    if (this.opts.direct) await fs.rm(target, { force: true });
    else await must(this.opts.runner, { file: 'rm', args: ['-f', '--', target], privileged: true });
  }

  /** A directory the tool created goes once nothing else lives in it (a package may have added files since). */
  private async rmdirIfEmpty(dir: string): Promise<void> {
    if (this.opts.direct) await fs.rmdir(dir).catch(() => undefined);
    else await this.opts.runner.run({ file: 'rmdir', args: ['--ignore-fail-on-non-empty', '--', dir], privileged: true });
  }

  /** Atomic placement through sudo: install beside the target, then rename over it. */
  private async sudoPlace(source: string, target: string, mode: number): Promise<void> {
    const tmp = `${target}.crio-sigpoc.tmp`;
    await must(this.opts.runner, { file: 'install', args: ['-D', '-m', mode.toString(8), '-T', source, tmp], privileged: true });
    await must(this.opts.runner, { file: 'mv', args: ['-f', '-T', tmp, target], privileged: true });
  }
}

const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
