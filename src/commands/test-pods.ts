// `test-pods`: wires its options to the pod verdicts (verify/test-pods.ts).
import type { TestPodsOptions } from '../verify/test-pods.js';
import { testPods } from '../verify/test-pods.js';
import { runCommand } from './run-command.js';

export default (opts: TestPodsOptions): Promise<number> => runCommand('test-pods', opts, (ctx) => testPods(ctx, opts));
