// Downloads of the VM path, as the invoking user into the cache (only installing needs root).
import type { Context } from '../core/context.js';
import { CommandFailed, must } from '../core/command.js';
import { EnvironmentError } from '../core/errors.js';

export async function download(ctx: Context, url: string, out: string): Promise<void> {
  try {
    await must(ctx.runner, { file: 'curl', args: ['-fsSL', '--retry', '3', '--create-dirs', '-o', out, url], timeoutMs: 600_000 });
  } catch (e) {
    if (!(e instanceof CommandFailed)) throw e;
    const why = (e.result.stderr || e.result.stdout).trim().split('\n').pop() ?? `curl exited ${e.result.exitCode}`;
    throw new EnvironmentError(`could not download ${url}: ${why}`, 'check the network (or https_proxy); a machine that cannot reach it can use setup --from source');
  }
}
