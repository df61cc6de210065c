// A temporary --root tree with its own state directory, and a context on it, for the key-state tests.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createContext } from '../../src/core/context.js';
import type { Context } from '../../src/core/context.js';
import { statePaths } from '../../src/core/state.js';

export async function keyStateTree(t: { after(fn: () => unknown): void }): Promise<{ ctx: Context; warnings: string[]; p: ReturnType<typeof statePaths>; root: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'sigpoc-keys-'));
  const saved = { password: process.env.COSIGN_PASSWORD, cosign: process.env.CRIO_SIGPOC_COSIGN, state: process.env.CRIO_SIGPOC_STATE_DIR };
  delete process.env.COSIGN_PASSWORD;
  delete process.env.CRIO_SIGPOC_STATE_DIR;
  t.after(async () => {
    for (const [name, value] of [['COSIGN_PASSWORD', saved.password], ['CRIO_SIGPOC_COSIGN', saved.cosign], ['CRIO_SIGPOC_STATE_DIR', saved.state]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await fs.rm(root, { recursive: true, force: true });
  });
  const warnings: string[] = [];
  const log = { info() {}, debug() {}, warn: (m: string) => void warnings.push(m) };
  const ctx = createContext({ root, dryRun: false, json: true, verbose: false, yes: true }, { log });
  return { ctx, warnings, p: statePaths(ctx.stateDir), root };
}

export const modeOf = async (p: string): Promise<number> => (await fs.lstat(p)).mode & 0o777;
