import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Runner } from './command.js';
import { ExecaRunner, isRoot } from './execa-runner.js';
import { DryRunRunner, Recorder, RecordingRunner } from './plan.js';
import { SystemFiles } from './system-files.js';
import { StateFiles } from './state-files.js';
import type { Log } from '../ui/log.js';
import { consoleLog } from '../ui/log.js';
import { underRoot } from './root.js';

export interface GlobalOptions {
  root: string;
  dryRun: boolean;
  json: boolean;
  verbose: boolean;
  yes: boolean;
  /** Print where the run's time went (start-up, each step, each program) on stderr. */
  profile?: boolean;
}

/** What a subcommand's body gives back: its exit code and what --json prints (one document on stdout). */
export interface CommandOutcome {
  exitCode: number;
  json: unknown;
}

export interface Context {
  opts: GlobalOptions;
  /** Runs apply's commands (recorded; only recorded under --dry-run). */
  runner: Runner;
  /** Runs read-only probes for real, even under --dry-run. */
  probe: Runner;
  recorder: Recorder;
  files: SystemFiles;
  /** Writes into the state directory (records, stamps, pod configs): recorded, atomic, dry-run aware. */
  state: StateFiles;
  log: Log;
  stateDir: string;
  cacheDir: string;
  /** Where config/, manifests/ and scripts/ of the installed tool live. */
  projectDir: string;
  /** The real path of a system path under --root. */
  sys(p: string): string;
  /** Memoised facts (CRI-O config, tool versions) shared by the steps of one run. */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

export const projectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** root's state directory, and the one ledger of the real /etc. */
export const SYSTEM_STATE_DIR = '/var/lib/crio-sigpoc';

export function defaultStateDir(root: string, env = process.env): string {
  if (env.CRIO_SIGPOC_STATE_DIR) return path.resolve(env.CRIO_SIGPOC_STATE_DIR);
  if (root !== '/') return path.join(root, 'var/lib/crio-sigpoc');
  if (isRoot()) return SYSTEM_STATE_DIR;
  return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), '.local/state'), 'crio-sigpoc');
}

export function defaultCacheDir(env = process.env): string {
  if (env.CRIO_SIGPOC_CACHE_DIR) return path.resolve(env.CRIO_SIGPOC_CACHE_DIR);
  if (isRoot()) return '/var/cache/crio-sigpoc';
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'crio-sigpoc');
}

/** deps: what a test injects (the runner, the log, the state and cache directories) instead of the environment. */
export function createContext(opts: GlobalOptions, deps: { real?: Runner; log?: Log; stateDir?: string; cacheDir?: string } = {}): Context {
  const log = deps.log ?? consoleLog({ verbose: opts.verbose });
  const real = deps.real ?? new ExecaRunner(log);
  const recorder = new Recorder();
  const runner = opts.dryRun ? new DryRunRunner(real, recorder) : new RecordingRunner(real, recorder);
  const stateDir = deps.stateDir ? path.resolve(deps.stateDir) : defaultStateDir(opts.root);
  const sys = (p: string): string => underRoot(opts.root, p);
  const files = new SystemFiles({
    root: opts.root,
    stateDir,
    runner,
    recorder,
    dryRun: opts.dryRun,
    direct: isRoot() || opts.root !== '/',
    log,
    // A normal user's runs change the real /etc through sudo: they record it in root's ledger.
    ...(isRoot() || opts.root !== '/' ? {} : { systemLedgerDir: SYSTEM_STATE_DIR }),
  });
  const cache = new Map<string, Promise<unknown>>();
  return {
    opts,
    runner,
    probe: real,
    recorder,
    files,
    state: new StateFiles({ stateDir, recorder, dryRun: opts.dryRun }),
    log,
    stateDir,
    cacheDir: deps.cacheDir ? path.resolve(deps.cacheDir) : defaultCacheDir(),
    projectDir,
    sys,
    memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
      if (!cache.has(key)) cache.set(key, compute());
      return cache.get(key) as Promise<T>;
    },
  };
}
