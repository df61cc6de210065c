import { registryChain } from '../verify/chain.js';
import type { GlobalOptions } from '../core/context.js';
import { stepsCommand } from './steps-command.js';

export default (opts: GlobalOptions & { backend?: 'auto' | 'docker' | 'binary' }) => stepsCommand('setup-registry', (ctx) => registryChain(ctx, { backend: opts.backend }))(opts);
