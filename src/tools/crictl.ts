import type { Context } from '../context.js';
import type { Command } from '../exec/command.js';
import { crioSocket } from '../service/specs.js';

/** crictl talks to CRI-O's socket (from CRI-O's own config), as root. */
export async function crictl(ctx: Context, args: string[], opts: Partial<Command> = {}): Promise<Command> {
  return {
    file: 'crictl',
    args: ['--runtime-endpoint', `unix://${await crioSocket(ctx)}`, ...args],
    privileged: true,
    timeoutMs: 180_000,
    ...opts,
  };
}
