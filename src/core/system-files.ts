// Every system file the tool touches goes through here: validated by the caller, written
// atomically, the original backed up once, and put back byte for byte by restoreAll (clean-all).
import { createHash } from 'node:crypto';
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import type { Runner } from './command.js';
import { must } from './command.js';
import type { Recorder } from './plan.js';
import { pathExists } from './fs-exists.js';
import { EnvironmentError } from './errors.js';
import { MANAGED_DIRS } from './settings.js';
import { trustedStatePath } from './trust.js';
import { lockLedger } from './lock.js';
import { underRoot } from './root.js';
import { secretTemporary, writeFileAtomically, writeSecretFile } from './secret-file.js';
import { statePaths } from './state.js';
import type { Log } from '../ui/log.js';

interface LedgerEntry {
  /** A name in the state dir's backups/ (chosen by the tool); null: the file did not exist before. */
  backup: string | null;
  mode: number | null;
  /** What the tool wrote ('absent' after a removal): a file changed since is not put back silently. */
  installedSha256: string;
}
type Ledger = Record<string, LedgerEntry>;

/** ledger.json: every entry a path the tool manages under the root it was written for. */
interface LedgerDoc {
  version: 2;
  root: string;
  files: Ledger;
  /** Directories the tool created (outermost first): removed by clean-all when empty. */
  dirs: string[];
}

export interface RestoreResult {
  path: string;
  action: 'restored' | 'removed' | 'already-original' | 'missing-backup' | 'changed-kept';
}

const BACKUP_NAME = /^[0-9a-f]{16}-[^/]+$/;

export class SystemFiles {
  constructor(
    private readonly opts: {
      root: string;
      stateDir: string;
      runner: Runner;
      recorder: Recorder;
      dryRun: boolean;
      direct: boolean;
      log: Log;
      /** Who must own the state dir and ledger (default: the effective user). */
      owner?: number;
      /**
       * Where the ledger and backups live when not in stateDir, reached through sudo: a normal
       * user's runs record the real /etc in the one system ledger that root's runs keep too, so
       * the two never back up each other's writes as originals.
       */
      systemLedgerDir?: string;
    },
  ) {}

  private get viaSudo(): boolean {
    return this.opts.systemLedgerDir !== undefined;
  }

  private get ledgerDir(): string {
    return this.opts.systemLedgerDir ?? this.opts.stateDir;
  }

  /** The real path of a system path under --root. Only normalised absolute paths: a `..` never leaves the root. */
  sys(p: string): string {
    if (!path.isAbsolute(p) || path.posix.normalize(p) !== p || p.split('/').includes('..')) {
      throw new EnvironmentError(`${p} is not a normalised absolute path (a relative path or one with ..); the tool writes no such path`, 'use an absolute path without . or .. parts in the setting that names it');
    }
    return underRoot(this.opts.root, p);
  }

  private get ledgerFile(): string {
    return path.join(this.ledgerDir, 'ledger.json');
  }

  private get backupDir(): string {
    return path.join(this.ledgerDir, 'backups');
  }

  private sudo(file: string, args: string[], readOnly = false) {
    return this.opts.runner.run({ file, args, privileged: true, readOnly });
  }

  /** A root-only file's bytes through sudo, exactly (base64: binaries survive the pipe). */
  private async sudoReadBytes(file: string): Promise<Buffer | undefined> {
    const r = await this.sudo('base64', ['-w', '0', '--', file], true);
    return r.exitCode === 0 ? Buffer.from(r.stdout.trim(), 'base64') : undefined;
  }

  /** Trust of the system ledger as root sees it: root's, not writable by others, no links. */
  private async sudoTrust(): Promise<boolean> {
    const statOf = async (p: string): Promise<{ uid: number; mode: number; type: string } | undefined> => {
      const r = await this.sudo('stat', ['-c', '%u %a %F', '--', p], true);
      if (r.exitCode !== 0) return undefined;
      const [uid, mode, ...type] = r.stdout.trim().split(' ');
      return { uid: Number(uid), mode: parseInt(mode, 8), type: type.join(' ') };
    };
    const refuse = (p: string, why: string): never => {
      throw new EnvironmentError(`${p} ${why}: the tool does not trust it`, `look at it (sudo ls -la ${this.ledgerDir}); move it away if it is not the tool's: sudo mv ${p} ${p}.refused`);
    };
    const dir = await statOf(this.ledgerDir);
    if (!dir) return false;
    if (dir.type !== 'directory') refuse(this.ledgerDir, `is a ${dir.type}, not a directory`);
    if (dir.uid !== 0 || dir.mode & 0o022) refuse(this.ledgerDir, `is owned by uid ${dir.uid} with mode ${dir.mode.toString(8)}, not root's alone`);
    const ledger = await statOf(this.ledgerFile);
    if (!ledger) return false;
    if (!/^regular( empty)? file$/.test(ledger.type)) refuse(this.ledgerFile, `is a ${ledger.type}, not a regular file`);
    if (ledger.uid !== 0 || ledger.mode & 0o077) refuse(this.ledgerFile, `is owned by uid ${ledger.uid} with mode ${ledger.mode.toString(8)}, not root's alone`);
    return true;
  }

  /** A secret (the ledger, a backup) written into the system ledger dir: staged as ours, then installed by root and renamed. */
  private async sudoWriteSecret(target: string, content: string | Buffer): Promise<void> {
    const staged = path.join(statePaths(this.opts.stateDir).stagingDir, `ledger-${path.basename(target)}`);
    await fs.mkdir(path.dirname(staged), { recursive: true, mode: 0o700 });
    await writeSecretFile(staged, content);
    try {
      for (const dir of new Set([this.ledgerDir, path.dirname(target)])) await must(this.opts.runner, { file: 'install', args: ['-d', '-m', '0700', '--', dir], privileged: true });
      const tmp = secretTemporary(target);
      await must(this.opts.runner, { file: 'install', args: ['-m', '0600', '-T', staged, tmp], privileged: true });
      await must(this.opts.runner, { file: 'mv', args: ['-f', '-T', tmp, target], privileged: true });
    } finally {
      await fs.rm(staged, { force: true });
    }
  }

  /** The files the ledger records (real paths), after checking that it can be trusted. */
  async ledger(): Promise<Ledger> {
    return (await this.load()).files;
  }

  private async trust(): Promise<boolean> {
    const o = { log: this.opts.log, dryRun: this.opts.dryRun, owner: this.opts.owner };
    if (!(await trustedStatePath(this.opts.stateDir, { ...o, type: 'dir', secret: false }))) return false;
    return trustedStatePath(this.ledgerFile, { ...o, type: 'file', secret: true });
  }

  private async load(): Promise<LedgerDoc> {
    const empty: LedgerDoc = { version: 2, root: this.opts.root, files: {}, dirs: [] };
    if (!(await (this.viaSudo ? this.sudoTrust() : this.trust()))) return empty;
    const text = this.viaSudo ? ((await this.sudoReadBytes(this.ledgerFile)) ?? Buffer.alloc(0)).toString('utf8') : await fs.readFile(this.ledgerFile, 'utf8');
    const refuse = (why: string): never => {
      throw new EnvironmentError(`${this.ledgerFile} ${why}; clean-all will not act on it`, `look at it, then move it away if it is not the tool's: mv ${this.ledgerFile} ${this.ledgerFile}.refused`);
    };
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return refuse('does not parse as JSON');
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return refuse('is not a JSON object');
    const doc = raw as Record<string, unknown>;
    // A ledger from before version 2 is the bare map of entries, written for this root.
    const legacy = doc.version === undefined;
    if (!legacy && doc.version !== 2) refuse(`has version ${JSON.stringify(doc.version)}, which this crio-sigpoc does not know`);
    if (!legacy && doc.root !== this.opts.root) refuse(`was written for --root ${JSON.stringify(doc.root)}, not ${this.opts.root}`);
    const entries = (legacy ? doc : doc.files) as Record<string, unknown>;
    if (!entries || typeof entries !== 'object') refuse('has no files');
    const out: LedgerDoc = { ...empty };
    const dirs = new Set<string>();
    for (const [target, value] of Object.entries(entries)) {
      if (!this.managed(target)) refuse(`names ${target}, which is not a path the tool manages under ${this.opts.root}`);
      const e = value as Record<string, unknown>;
      if (!e || typeof e !== 'object') refuse(`has a malformed entry for ${target}`);
      let backup = e.backup;
      // Older ledgers stored the backup's full path: accepted only when it is in our backups/.
      if (typeof backup === 'string' && path.isAbsolute(backup) && path.dirname(backup) === this.backupDir) backup = path.basename(backup);
      if (backup !== null && (typeof backup !== 'string' || !BACKUP_NAME.test(backup))) refuse(`has a backup for ${target} that the tool did not name`);
      if (e.mode !== null && !Number.isInteger(e.mode)) refuse(`has a malformed mode for ${target}`);
      out.files[target] = { backup: backup as string | null, mode: e.mode === null ? null : (e.mode as number) & 0o777, installedSha256: typeof e.installedSha256 === 'string' ? e.installedSha256 : '' };
      for (const d of (Array.isArray(e.createdDirs) ? e.createdDirs : []) as unknown[]) dirs.add(String(d));
    }
    for (const d of (Array.isArray(doc.dirs) ? doc.dirs : []) as unknown[]) dirs.add(String(d));
    for (const d of dirs) if (!this.creatable(d)) refuse(`names the directory ${d}, which is not one the tool creates`);
    out.dirs = [...dirs];
    return out;
  }

  /** A real path is the tool's when it lies strictly inside one of the system dirs it manages, under this root. */
  private managed(real: string): boolean {
    if (typeof real !== 'string' || !path.isAbsolute(real) || path.resolve(real) !== real) return false;
    return MANAGED_DIRS.some((m) => real.startsWith(this.real(m) + '/') || real === this.real(m));
  }

  /** A directory the tool may have created: inside a managed dir, or one of their parents under --root. */
  private creatable(dir: string): boolean {
    if (this.managed(dir)) return true;
    const root = this.opts.root === '/' ? '' : this.opts.root;
    return path.resolve(dir) === dir && dir.startsWith(root + '/') && MANAGED_DIRS.some((m) => this.real(m).startsWith(dir + '/'));
  }

  private real(p: string): string {
    return underRoot(this.opts.root, p);
  }

  private async save(doc: LedgerDoc): Promise<void> {
    if (this.viaSudo) return this.sudoWriteSecret(this.ledgerFile, JSON.stringify(doc, null, 2) + '\n');
    await fs.mkdir(this.opts.stateDir, { recursive: true, mode: 0o700 });
    await this.trust();
    await writeSecretFile(this.ledgerFile, JSON.stringify(doc, null, 2) + '\n');
  }

  /**
   * Refuses a target under --root that a symlink (in it or in a parent) leads out of the root:
   * the tool writes inside the tree it was given, nowhere else.
   */
  private async contained(target: string): Promise<void> {
    if (this.opts.root === '/') return;
    const root = await fs.realpath(this.opts.root);
    let existing = target;
    while (!(await fs.lstat(existing).then(() => true, () => false))) existing = path.dirname(existing);
    const resolved = await fs.realpath(existing).catch(() => existing);
    if (resolved !== root && !resolved.startsWith(root + '/')) {
      throw new EnvironmentError(`${target} leads out of --root ${this.opts.root} (through a symbolic link to ${resolved}); the tool does not write there`, `remove the link under ${this.opts.root}, or use a --root without it`);
    }
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
      if ((e as NodeJS.ErrnoException).code === 'EACCES' && !this.opts.direct) return this.sudoReadBytes(this.sys(p));
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

  private async target(p: string): Promise<string> {
    const target = this.sys(p);
    if (!this.managed(target)) throw new EnvironmentError(`${p} is outside the system directories the tool manages (${MANAGED_DIRS.join(', ')}); it writes nothing there`, `point the setting that names ${p} at a path under /etc`);
    await this.contained(target);
    return target;
  }

  /**
   * Writes and removals of system files run one at a time. An undo started by a signal while a
   * write is under way (test's additions, Ctrl-C) then waits for it, instead of removing the file
   * before the write's rename puts it back.
   */
  private queue: Promise<unknown> = Promise.resolve();
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const locked = () => this.underLedgerLock(op);
    const next = this.queue.then(locked, locked);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The ledger dir, checked (the lock file is opened in it as root) and made once per run. */
  private ledgerDirReady?: Promise<void>;
  private async prepareLedgerDir(): Promise<void> {
    if (!this.viaSudo) return void (await this.trust());
    await this.sudoTrust();
    await must(this.opts.runner, { file: 'install', args: ['-d', '-m', '0700', '--', this.ledgerDir], privileged: true });
  }

  /** Another run (root's, or a user's through sudo) changes the ledger only between our changes. */
  private async underLedgerLock<T>(op: () => Promise<T>): Promise<T> {
    // Another user's ledger of an earlier version, which only root's clean-all still reads: no root-owned lock file in their home.
    if (this.opts.dryRun || (this.opts.owner !== undefined && this.opts.owner !== process.geteuid?.())) return op();
    await (this.ledgerDirReady ??= this.prepareLedgerDir());
    const release = await lockLedger(this.ledgerDir, { viaSudo: this.viaSudo });
    try {
      return await op();
    } finally {
      await release();
    }
  }

  /** Installs content at a system path; a no-op when it is already there. */
  install(p: string, content: string | Buffer, mode = 0o644): Promise<'unchanged' | 'written'> {
    return this.serial(() => this.installNow(p, content, mode));
  }

  private async installNow(p: string, content: string | Buffer, mode: number): Promise<'unchanged' | 'written'> {
    const target = await this.target(p);
    if (await this.matches(p, content, mode)) return 'unchanged';
    if (this.opts.dryRun) {
      this.opts.recorder.write(target, content, mode);
      return 'written';
    }
    await this.backupOnce(target);
    this.opts.recorder.write(target, content, mode);
    if (this.opts.direct) {
      await writeFileAtomically(target, content, mode, placeTemporary(target));
    } else {
      const staged = path.join(statePaths(this.opts.stateDir).stagingDir, path.basename(target));
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

  remove(p: string): Promise<'unchanged' | 'removed'> {
    return this.serial(() => this.removeNow(p));
  }

  private async removeNow(p: string): Promise<'unchanged' | 'removed'> {
    const target = await this.target(p);
    await this.removeTemporary(target);
    if (!(await this.exists(p))) return 'unchanged';
    this.opts.recorder.remove(target);
    if (this.opts.dryRun) return 'removed';
    await this.backupOnce(target);
    await this.rmAbs(target);
    await this.record(target, 'absent');
    return 'removed';
  }

  /** The entries clean-all would act on: all, or (without force) those not changed since the tool wrote them. */
  async pending(opts: { force?: boolean } = {}): Promise<{ target: string; changed: boolean }[]> {
    const doc = await this.load();
    const out: { target: string; changed: boolean }[] = [];
    for (const [target, entry] of Object.entries(doc.files)) out.push({ target, changed: !opts.force && (await this.changedSince(target, entry)) });
    return out;
  }

  /** Did someone change the file after the tool last wrote (or removed) it? */
  private async changedSince(target: string, entry: LedgerEntry): Promise<boolean> {
    if (!entry.installedSha256) return false;
    const current = await fs.readFile(target).catch(() => undefined);
    if (entry.installedSha256 === 'absent') return current !== undefined;
    return current === undefined || sha256(current) !== entry.installedSha256;
  }

  /** Puts back every file the ledger knows, then forgets them; a file changed since is kept unless force. */
  restoreAll(opts: { force?: boolean } = {}): Promise<RestoreResult[]> {
    return this.serial(() => this.restoreAllNow(opts));
  }

  private async restoreAllNow(opts: { force?: boolean }): Promise<RestoreResult[]> {
    const doc = await this.load();
    const out: RestoreResult[] = [];
    for (const [target, entry] of Object.entries(doc.files).reverse()) {
      await this.contained(target);
      await this.removeTemporary(target);
      const backupFile = entry.backup === null ? null : path.join(this.backupDir, entry.backup);
      const original = backupFile === null ? null : this.viaSudo ? await this.sudoReadBytes(backupFile) : await fs.readFile(backupFile).catch(() => undefined);
      if (original === undefined) {
        out.push({ path: target, action: 'missing-backup' });
        continue;
      }
      const current = await fs.readFile(target).catch(() => undefined);
      const isOriginal = original === null ? current === undefined : current?.equals(original) === true;
      if (isOriginal) out.push({ path: target, action: 'already-original' });
      else if (!opts.force && (await this.changedSince(target, entry))) {
        out.push({ path: target, action: 'changed-kept' });
        continue;
      } else if (original === null) {
        if (this.opts.dryRun) this.opts.recorder.remove(target);
        else await this.rmAbs(target);
        out.push({ path: target, action: 'removed' });
      } else {
        const mode = entry.mode ?? 0o644;
        if (this.opts.dryRun) this.opts.recorder.write(target, original, mode);
        else if (this.opts.direct) await writeFileAtomically(target, original, mode, placeTemporary(target));
        else await this.sudoPlace(path.join(this.backupDir, entry.backup!), target, mode);
        out.push({ path: target, action: 'restored' });
      }
      if (!this.opts.dryRun) delete doc.files[target];
    }
    if (!this.opts.dryRun && Object.keys(doc.files).length === 0) {
      for (const dir of [...doc.dirs].reverse()) await this.rmdirIfEmpty(dir);
      doc.dirs = [];
    }
    const ledgerExists = this.viaSudo ? async () => (await this.sudo('test', ['-e', this.ledgerFile], true)).exitCode === 0 : () => pathExists(this.ledgerFile);
    if (!this.opts.dryRun && (await ledgerExists())) {
      await this.save(doc);
      if (Object.keys(doc.files).length === 0) {
        if (this.viaSudo) await must(this.opts.runner, { file: 'rm', args: ['-rf', '--', this.backupDir], privileged: true });
        else await fs.rm(this.backupDir, { recursive: true, force: true });
      }
    }
    return out;
  }

  private async backupOnce(target: string): Promise<void> {
    const doc = await this.load();
    if (doc.files[target]) return;
    let backup: string | null = null;
    let mode: number | null = null;
    const st = await fs.lstat(target).catch(() => undefined);
    if (st) {
      if (!st.isFile()) throw new EnvironmentError(`${target} is not a regular file (a link or a directory); the tool does not replace it`, `look at it: ls -l ${target}`);
      backup = `${sha256(target).slice(0, 16)}-${path.basename(target)}`;
      const bytes = this.opts.direct ? await fs.readFile(target) : await this.sudoReadBytes(target);
      if (!bytes) throw new EnvironmentError(`cannot read ${target} through sudo to back it up`, `check that sudo works: sudo -v`);
      if (this.viaSudo) await this.sudoWriteSecret(path.join(this.backupDir, backup), bytes);
      else {
        await fs.mkdir(this.backupDir, { recursive: true, mode: 0o700 });
        await writeSecretFile(path.join(this.backupDir, backup), bytes);
      }
      mode = st.mode & 0o777;
    } else {
      // Parents the tool creates get an explicit mode and are recorded, so clean-all can take them away.
      const created: string[] = [];
      for (let dir = path.dirname(target); !(await pathExists(dir)); dir = path.dirname(dir)) created.unshift(dir);
      for (const dir of created) {
        if (this.opts.direct) await fs.mkdir(dir, { mode: 0o755 });
        else await must(this.opts.runner, { file: 'install', args: ['-d', '-m', '0755', '--', dir], privileged: true });
        if (!doc.dirs.includes(dir)) doc.dirs.push(dir);
      }
    }
    doc.files[target] = { backup, mode, installedSha256: '' };
    await this.save(doc);
  }

  private async record(target: string, sha: string): Promise<void> {
    const doc = await this.load();
    if (doc.files[target]) doc.files[target].installedSha256 = sha;
    await this.save(doc);
  }

  private async rmAbs(target: string): Promise<void> {
    if (this.opts.direct) await fs.rm(target, { force: true });
    else await must(this.opts.runner, { file: 'rm', args: ['-f', '--', target], privileged: true });
  }

  /**
   * A directory the tool created goes once no file lives in it, with the empty directories that
   * programs it installed made inside (CRI-O makes /etc/crio/auth and /etc/crio/policies as it
   * starts). A file anywhere below (a package's, an administrator's) keeps it; links are not followed.
   */
  private async rmdirIfEmpty(dir: string): Promise<void> {
    if (this.opts.direct) return removeEmptyDirs(dir);
    await this.opts.runner.run({ file: 'find', args: [dir, '-xdev', '-mindepth', '1', '-type', 'd', '-empty', '-delete'], privileged: true });
    await this.opts.runner.run({ file: 'rmdir', args: ['--ignore-fail-on-non-empty', '--', dir], privileged: true });
  }

  /** What a write killed between its temporary and its rename left beside the target. */
  private async removeTemporary(target: string): Promise<void> {
    const tmp = placeTemporary(target);
    if (this.opts.dryRun || !(await fs.lstat(tmp).then(() => true, () => false))) return;
    await this.rmAbs(tmp);
  }

  /** Atomic placement through sudo: install beside the target, then rename over it. */
  private async sudoPlace(source: string, target: string, mode: number): Promise<void> {
    const tmp = placeTemporary(target);
    await must(this.opts.runner, { file: 'install', args: ['-m', mode.toString(8), '-T', source, tmp], privileged: true });
    await must(this.opts.runner, { file: 'mv', args: ['-f', '-T', tmp, target], privileged: true });
  }
}

/** One temporary name per target, so that one a killed write left is found and removed again. */
const placeTemporary = (target: string): string => `${target}.crio-sigpoc.tmp`;

const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

/** dir and the directories below it that hold no file, deepest first; symbolic links are never entered. */
async function removeEmptyDirs(dir: string, depth = 0): Promise<void> {
  if (depth > 16) return;
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeEmptyDirs(path.join(dir, e.name), depth + 1);
  await fs.rmdir(dir).catch(() => undefined);
}
