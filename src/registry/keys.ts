// The cosign key pair, in the state directory. The passphrase reaches cosign only through its
// environment: from COSIGN_PASSWORD, or generated once and kept 0600 beside the key.
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { must } from '../core/command.js';
import type { Step } from '../core/step.js';
import { done, todo } from '../core/step.js';
import { cosignBinary } from './cosign.js';
import { exists, finishRotation, rotationUnfinished } from './key-journal.js';
import { statePaths } from '../core/state.js';
import { trustedStatePath } from '../core/trust.js';
import { writeSecretFile } from '../core/secret-file.js';

/**
 * COSIGN_PASSWORD as the user gave it. Empty counts as unset: cosign would make a key without a
 * passphrase, which nobody exporting the variable meant; a generated one is kept instead.
 */
export const envPassphrase = (): string | undefined => process.env.COSIGN_PASSWORD || undefined;

const pairFiles = (dir: string) => ({ privateKey: path.join(dir, 'cosign.key'), publicKey: path.join(dir, 'cosign.pub'), password: path.join(dir, 'cosign.password') });

/** The files of a key pair's directory that exist, each trusted first (ours, no link, tight modes). */
export async function trustedPair(ctx: Context, dir: string): Promise<{ privateKey?: string; publicKey?: string; password?: string }> {
  const o = { log: ctx.log, dryRun: ctx.opts.dryRun };
  if (!(await trustedStatePath(dir, { ...o, type: 'dir', secret: true }))) return {};
  const f = pairFiles(dir);
  const has = async (p: string, secret: boolean): Promise<string | undefined> => ((await trustedStatePath(p, { ...o, type: 'file', secret })) ? p : undefined);
  return { privateKey: await has(f.privateKey, true), publicKey: await has(f.publicKey, false), password: await has(f.password, true) };
}

/** A kept passphrase, read without following a link put in its place since it was trusted. */
export const readSecret = (file: string): Promise<string> => fs.readFile(file, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });

/** The passphrase for the private key, from the environment or the kept file. */
export async function keyPassphrase(ctx: Context): Promise<string> {
  const fromEnv = envPassphrase();
  if (fromEnv !== undefined) return fromEnv;
  const p = statePaths(ctx.stateDir);
  const kept = (await trustedPair(ctx, p.keysDir)).password;
  if (kept === undefined) {
    throw new UsageError(`the key's passphrase is neither in COSIGN_PASSWORD nor in ${p.password}`, 'export COSIGN_PASSWORD=<the passphrase>, or rotate the keys: crio-sigpoc gen-keys --force');
  }
  return readSecret(kept);
}

/** A new pair (and its passphrase when kept) in a fresh 0700 directory beside dir; returns that directory. */
export async function freshKeyPair(ctx: Context, dir: string, passphrase: string, keepPassphrase: boolean): Promise<string> {
  const parent = path.dirname(dir);
  await fs.mkdir(parent, { recursive: true, mode: 0o700 });
  const fresh = await fs.mkdtemp(path.join(parent, `.${path.basename(dir)}-new-`));
  try {
    await generateIn(ctx, fresh, passphrase);
    await fs.chmod(pairFiles(fresh).privateKey, 0o600);
    if (keepPassphrase) await writeSecretFile(pairFiles(fresh).password, passphrase);
    return fresh;
  } catch (e) {
    await fs.rm(fresh, { recursive: true, force: true });
    throw e;
  }
}

const generateIn = (ctx: Context, cwd: string, passphrase: string) =>
  must(ctx.runner, { file: cosignBinary(), args: ['generate-key-pair'], cwd, env: { COSIGN_PASSWORD: passphrase }, secretEnv: ['COSIGN_PASSWORD'] });

/**
 * A new pair in dir, replacing the old one (no overlap: `gen-keys --force`). Swapped in only once
 * cosign succeeded: a failure leaves the old pair and passphrase working.
 */
export async function generateKeyPair(ctx: Context, dir: string, passphrase: string, keepPassphrase: boolean): Promise<void> {
  if (ctx.opts.dryRun) return void (await generateIn(ctx, dir, passphrase));
  const fresh = await freshKeyPair(ctx, dir, passphrase, keepPassphrase);
  const old = `${fresh}-old`;
  try {
    // Two renames, never a half-written pair: the old directory leaves whole, the new one comes whole.
    const hadOld = await fs.rename(dir, old).then(() => true, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)));
    await fs.rename(fresh, dir).catch(async (e) => {
      if (hadOld) await fs.rename(old, dir);
      throw e;
    });
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
  } finally {
    await fs.rm(fresh, { recursive: true, force: true });
  }
}

export function keysStep(opts: { force?: boolean } = {}): Step {
  // --force replaces once: a pair made since this step was built is the new one.
  const since = Date.now();
  const madeSince = async (file: string): Promise<boolean> => ((await fs.stat(file).catch(() => undefined))?.mtimeMs ?? 0) >= since;
  return {
    id: 'keys',
    title: 'cosign key pair',
    async check(ctx) {
      const p = statePaths(ctx.stateDir);
      if (await rotationUnfinished(ctx)) return todo('an interrupted key rotation is finished');
      // Refused or tightened before anything else, even before --force replaces it.
      const have = await trustedPair(ctx, p.keysDir);
      if (opts.force && !(await madeSince(p.publicKey))) return todo('--force: replacing the key pair');
      if (have.privateKey && have.publicKey) return done(p.publicKey);
      // The old key without the new one, and no journal: never paper over it with a third key.
      if (await exists(p.previousKeysDir)) {
        throw new EnvironmentError(`${p.keysDir} has no key pair, but ${p.previousKeysDir} holds the old key of a rotation`, `restore the new pair into ${p.keysDir}, or make the old key current again: mv ${p.previousKeysDir} ${p.keysDir}`);
      }
      return todo(`no key pair in ${p.keysDir}`);
    },
    async apply(ctx) {
      if (await finishRotation(ctx)) return;
      const fromEnv = envPassphrase();
      await generateKeyPair(ctx, statePaths(ctx.stateDir).keysDir, fromEnv ?? randomBytes(24).toString('base64url'), fromEnv === undefined);
    },
  };
}
