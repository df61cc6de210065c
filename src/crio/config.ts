// CRI-O's effective settings as CRI-O itself computes them: /etc/crio/crio.conf first (lowest
// precedence), then every file of /etc/crio/crio.conf.d in lexical order, later files winning.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse } from 'smol-toml';
import { SYSTEM_PATHS, UPSTREAM_PAUSE_IMAGE } from '../core/settings.js';
import { underRoot } from '../core/root.js';

export interface Setting<T> {
  value: T;
  /** The file that decided, or 'default'. */
  source: string;
}

export interface CrioConfig {
  /** The files read, in the order CRI-O applies them. */
  files: string[];
  signaturePolicy: Setting<string>;
  /** The policy file pulls actually use: signature_policy, or the library default when empty. */
  effectivePolicyPath: string;
  signaturePolicyDir: Setting<string>;
  listen: Setting<string>;
  cgroupManager: Setting<string>;
  pauseImage: Setting<string>;
  logDir?: string;
  /** Files that could not be parsed; CRI-O itself would refuse to start on these. */
  errors: { file: string; message: string }[];
}

const DEFAULTS = {
  signature_policy: '',
  signature_policy_dir: SYSTEM_PATHS.namespacePolicyDir,
  listen: SYSTEM_PATHS.crioSocket,
  cgroup_manager: 'systemd',
  pause_image: UPSTREAM_PAUSE_IMAGE,
};

type Table = Record<string, unknown>;
const table = (v: unknown): Table => (v && typeof v === 'object' ? (v as Table) : {});

/** The ordered list of config files CRI-O reads under root. */
export async function crioConfigFiles(root: string): Promise<string[]> {
  const at = (p: string): string => underRoot(root, p);
  const files: string[] = [];
  if (await isFile(at(SYSTEM_PATHS.crioConfig))) files.push(SYSTEM_PATHS.crioConfig);
  const dir = SYSTEM_PATHS.crioDropinDir;
  const names = await fs.readdir(at(dir)).catch(() => [] as string[]);
  for (const name of [...names].sort()) {
    if (await isFile(at(path.join(dir, name)))) files.push(path.join(dir, name));
  }
  return files;
}

/** exclude: config files to leave out, to see what CRI-O would do without them. */
export async function readCrioConfig(root: string, opts: { exclude?: string[] } = {}): Promise<CrioConfig> {
  const at = (p: string): string => underRoot(root, p);
  const files = (await crioConfigFiles(root)).filter((f) => !opts.exclude?.includes(f));
  const pick = <T>(key: keyof typeof DEFAULTS): Setting<T> => ({ value: DEFAULTS[key] as T, source: 'default' });
  const cfg = {
    signaturePolicy: pick<string>('signature_policy'),
    signaturePolicyDir: pick<string>('signature_policy_dir'),
    listen: pick<string>('listen'),
    cgroupManager: pick<string>('cgroup_manager'),
    pauseImage: pick<string>('pause_image'),
  };
  const errors: CrioConfig['errors'] = [];
  let logDir: string | undefined;
  for (const file of files) {
    let doc: Table;
    try {
      doc = parse(await fs.readFile(at(file), 'utf8')) as Table;
    } catch (e) {
      errors.push({ file, message: (e as Error).message.split('\n')[0] });
      continue;
    }
    const crio = table(doc.crio);
    const set = (s: Setting<string>, v: unknown): void => {
      if (typeof v === 'string') {
        s.value = v;
        s.source = file;
      }
    };
    set(cfg.signaturePolicy, table(crio.image).signature_policy);
    set(cfg.signaturePolicyDir, table(crio.image).signature_policy_dir);
    set(cfg.pauseImage, table(crio.image).pause_image);
    set(cfg.listen, table(crio.api).listen);
    set(cfg.cgroupManager, table(crio.runtime).cgroup_manager);
    if (typeof crio.log_dir === 'string') logDir = crio.log_dir;
  }
  return {
    files,
    ...cfg,
    effectivePolicyPath: cfg.signaturePolicy.value || SYSTEM_PATHS.libraryDefaultPolicy,
    logDir,
    errors,
  };
}

async function isFile(p: string): Promise<boolean> {
  const st = await fs.stat(p).catch(() => undefined);
  return Boolean(st?.isFile());
}
