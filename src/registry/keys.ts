// The cosign key pair, in the state directory. The passphrase reaches cosign only through its
// environment: from COSIGN_PASSWORD, or generated once and kept 0600 beside the key.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { must } from '../core/command.js';
import type { Step } from '../core/step.js';
import { done, todo } from '../core/step.js';
import { cosignBinary } from './cosign.js';
import { statePaths } from '../core/state.js';
import { pathExists } from '../core/fs-exists.js';


/** The passphrase for the private key, from the environment or the kept file. */
export async function keyPassphrase(ctx: Context): Promise<string> {
  if (process.env.COSIGN_PASSWORD !== undefined) return process.env.COSIGN_PASSWORD;
  const file = statePaths(ctx.stateDir).password;
  const kept = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (kept === undefined) {
    throw new UsageError(`the key's passphrase is neither in COSIGN_PASSWORD nor in ${file}`, 'export COSIGN_PASSWORD=<the passphrase>, or rotate the keys: crio-sigpoc gen-keys --force');
  }
  return kept;
}

export function keysStep(opts: { force?: boolean } = {}): Step {
  let rotate = Boolean(opts.force);
  return {
    id: 'keys',
    title: 'cosign key pair',
    async check(ctx) {
      const p = statePaths(ctx.stateDir);
      if (rotate) return todo('--force: rotating the key pair');
      const have = (await pathExists(p.privateKey)) && (await pathExists(p.publicKey));
      return have ? done(p.publicKey) : todo(`no key pair in ${p.keysDir}`);
    },
    async apply(ctx) {
      const p = statePaths(ctx.stateDir);
      const fromEnv = process.env.COSIGN_PASSWORD;
      const passphrase = fromEnv ?? randomBytes(24).toString('base64url');
      if (!ctx.opts.dryRun) {
        await fs.mkdir(p.keysDir, { recursive: true, mode: 0o700 });
        await fs.rm(p.privateKey, { force: true });
        await fs.rm(p.publicKey, { force: true });
      }
      await must(ctx.runner, {
        file: cosignBinary(),
        args: ['generate-key-pair'],
        cwd: p.keysDir,
        env: { COSIGN_PASSWORD: passphrase },
        secretEnv: ['COSIGN_PASSWORD'],
      });
      if (ctx.opts.dryRun) return;
      await fs.chmod(p.privateKey, 0o600);
      if (fromEnv === undefined) await fs.writeFile(p.password, passphrase, { mode: 0o600 });
      else await fs.rm(p.password, { force: true });
      rotate = false;
    },
  };
}
