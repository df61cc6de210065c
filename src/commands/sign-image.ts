import { signChain } from '../verify/chain.js';
import type { GlobalOptions } from '../core/context.js';
import { stepsCommand } from './steps-command.js';

export default (opts: GlobalOptions & { offline?: boolean }) => stepsCommand('sign-image', (ctx) => signChain(ctx, { offline: opts.offline }))(opts);
