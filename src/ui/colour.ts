// Colour only on a terminal, and never when NO_COLOR is set (no-color.org): chalk 5 itself reads
// FORCE_COLOR and --no-color but not NO_COLOR.
import type { ChalkInstance } from 'chalk';

export function colourWanted(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return Boolean(stream.isTTY);
}

/** A chalk that colours or not, loaded on demand so that --help and --json never pay for it. */
export async function loadChalk(colour: boolean): Promise<ChalkInstance> {
  const { Chalk } = await import('chalk');
  return new Chalk({ level: colour ? 1 : 0 });
}
