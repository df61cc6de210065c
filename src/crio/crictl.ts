import type { Context } from '../core/context.js';
import type { Command, RunResult } from '../core/command.js';
import { readCrioConfig } from './config.js';

/** The socket CRI-O listens on, as its effective configuration says. */
export async function crioSocket(ctx: Context): Promise<string> {
  return ctx.memo('crio-socket', async () => (await readCrioConfig(ctx.opts.root)).listen.value);
}

/**
 * crictl talks to CRI-O's socket (from CRI-O's own config), as root. Its default deadline per
 * request (2 s) is shorter than a pod sandbox takes on a slow node (seen under emulation): the
 * deadline is the tool's own process timeout instead.
 */
export async function crictl(ctx: Context, args: string[], opts: Partial<Command> = {}): Promise<Command> {
  return {
    file: 'crictl',
    args: ['--runtime-endpoint', `unix://${await crioSocket(ctx)}`, '--timeout', '170s', ...args],
    privileged: true,
    timeoutMs: 180_000,
    ...opts,
  };
}

/**
 * crictl first validates its connection with an ImageFsInfo call, which CRI-O answers by walking
 * its storage; a concurrent rmi can remove a file under that walk ("validate service connection
 * … lstat …"). crictl then never sent the request itself, so it is asked again.
 */
export async function runCrictl(ctx: Context, args: string[], opts: Partial<Command> = {}, attempts = 3): Promise<RunResult> {
  const cmd = await crictl(ctx, args, opts);
  let r = await ctx.runner.run(cmd);
  for (let i = 1; i < attempts && r.exitCode !== 0 && /validate service connection/.test(r.stderr); i++) {
    await new Promise((ok) => setTimeout(ok, 200 * i));
    r = await ctx.runner.run(cmd);
  }
  return r;
}
