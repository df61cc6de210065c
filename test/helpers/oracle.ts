// The policy oracle (test/oracle): built from its committed go.mod/go.sum/main.go against the
// go.podman.io/image/v5 version that the pinned CRI-O's go.mod requires, cached by a hash of its
// sources, and spoken to as one long-lived process (a JSON object a line each way).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { ResultPromise } from 'execa';
import { execa } from 'execa';
import { defaultCacheDir } from '../../src/core/context.js';
import { VERSIONS } from '../../src/core/settings.js';
import { repo } from './cli.js';

export const ORACLE_DIR = path.join(repo, 'test/oracle');
const LIBRARY = 'go.podman.io/image/v5';
/** CRI-O's build tags that matter to the library (no gpgme); see src/steps/setup/go-build.ts. */
const TAGS = 'containers_image_openpgp';

export interface OracleBuild {
  binary: string;
  /** The library version CRI-O's go.mod requires, which the oracle is built with. */
  libraryVersion: string;
  /** Seconds spent building; 0 when the cached binary was used. */
  buildSeconds: number;
  cached: boolean;
}

const requireLine = (mod: string, module: string): string | undefined =>
  new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+(v\\S+)`, 'm').exec(mod)?.[1];

/** The go.podman.io/image/v5 version in CRI-O's go.mod, from the module cache (go mod download). */
export async function crioLibraryVersion(): Promise<string> {
  const r = await execa('go', ['mod', 'download', '-json', `github.com/cri-o/cri-o@${VERSIONS.crio}`], { reject: false, cwd: ORACLE_DIR });
  if (r.exitCode !== 0) throw new Error(`go mod download github.com/cri-o/cri-o@${VERSIONS.crio} failed (exit ${r.exitCode}): ${r.stderr || r.stdout}`);
  const goMod = (JSON.parse(r.stdout) as { GoMod?: string }).GoMod;
  if (!goMod) throw new Error(`go mod download printed no GoMod for github.com/cri-o/cri-o@${VERSIONS.crio}`);
  const version = requireLine(await fs.readFile(goMod, 'utf8'), LIBRARY);
  if (!version) throw new Error(`${goMod} requires no ${LIBRARY}`);
  return version;
}

/** Builds the oracle unless a binary for the same sources, Go version and library is cached. */
export async function buildOracle(): Promise<OracleBuild> {
  const libraryVersion = await crioLibraryVersion();
  const goMod = await fs.readFile(path.join(ORACLE_DIR, 'go.mod'), 'utf8');
  const pinned = requireLine(goMod, LIBRARY);
  if (pinned !== libraryVersion) {
    throw new Error(`test/oracle/go.mod requires ${LIBRARY} ${pinned}, but CRI-O ${VERSIONS.crio} requires ${libraryVersion}: set it to ${libraryVersion} and run GOFLAGS=-mod=mod go mod tidy in test/oracle`);
  }
  const goVersion = (await execa('go', ['env', 'GOVERSION'])).stdout.trim();
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(`${f}\0`).update(await fs.readFile(path.join(ORACLE_DIR, f))).update('\0');
  hash.update(`${goVersion}\0${TAGS}`);
  const dir = path.join(defaultCacheDir(), 'oracle', hash.digest('hex').slice(0, 16));
  const binary = path.join(dir, 'policy-oracle');
  if (await fs.stat(binary).then((s) => s.isFile(), () => false)) return { binary, libraryVersion, buildSeconds: 0, cached: true };
  await fs.mkdir(dir, { recursive: true });
  const tmp = `${binary}.${process.pid}.tmp`;
  const started = Date.now();
  const r = await execa('go', ['build', '-trimpath', '-mod=readonly', '-tags', TAGS, '-o', tmp, '.'], { cwd: ORACLE_DIR, reject: false, env: { CGO_ENABLED: '0' } });
  if (r.exitCode !== 0) throw new Error(`building the policy oracle failed (exit ${r.exitCode}):\n${r.stderr}`);
  await fs.rename(tmp, binary);
  return { binary, libraryVersion, buildSeconds: (Date.now() - started) / 1000, cached: false };
}

export interface OracleRequest {
  policy?: string;
  registriesD?: string;
  registriesConf?: string;
  images?: string[];
  op?: 'version';
}

export interface OracleImage {
  image: string;
  error?: string;
  reference?: string;
  identity?: string;
  namespaces?: string[];
  /** The deciding transports.docker key; absent when the default decided. */
  scope?: string;
  requirements?: Record<string, unknown>[];
  lookaside?: string;
  lookasideError?: string;
  attachments?: boolean;
}

export interface OracleAnswer {
  id: number;
  error?: string;
  library?: string;
  version?: string;
  policy?: { error?: string };
  registriesD?: { error?: string };
  images?: OracleImage[];
}

/** One oracle process; ask() may be called concurrently, answers are matched by id. */
export class Oracle {
  private next = 1;
  private readonly waiting = new Map<number, (a: OracleAnswer) => void>();
  private constructor(private readonly child: ResultPromise) {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const a = JSON.parse(line) as OracleAnswer;
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
  }

  static start(binary: string): Oracle {
    return new Oracle(execa(binary, [], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit', buffer: false, reject: false }));
  }

  ask(req: OracleRequest): Promise<OracleAnswer> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ id, ...req })}\n`, (e) => e && reject(e));
    });
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    await this.child;
  }
}
