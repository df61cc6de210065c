import { signChain } from '../chain.js';
import type { GlobalOptions } from '../context.js';
import { stepsCommand } from './steps-command.js';

export default (opts: GlobalOptions & { offline?: boolean; cosign?: string }) =>
  stepsCommand('sign-image', (ctx) => signChain(ctx, { offline: opts.offline, cosign: opts.cosign }))(opts);
