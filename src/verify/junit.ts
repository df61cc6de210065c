// JUnit XML for CI: one testcase per verdict; a wrong verdict is a failure carrying what was
// expected, what happened and the runtime's reason; a case that did not run is skipped.
import type { Builder } from 'junit-report-builder';
import type { Verdict } from './verdict.js';

/** suite: the run's name, e.g. 'crio-sigpoc test-pods'; it also names each testcase's class. */
export async function junitReport(verdicts: Verdict[], suite: string): Promise<string> {
  // CommonJS: module.exports is a shared builder, which its typings describe as `default`.
  const shared = (await import('junit-report-builder')).default as unknown as Builder;
  const builder = shared.newBuilder();
  const ts = builder.testSuite().name(suite);
  const className = suite.replace(/\s+/g, '.');
  for (const v of verdicts) {
    const tc = ts
      .testCase()
      .className(className)
      .name(v.node ? `${v.name} on ${v.node}` : v.name)
      .time(v.durationMs / 1000)
      .property('image', v.image)
      .property('expected', v.expected)
      .property('actual', v.actual);
    if (v.node) tc.property('node', v.node);
    if (v.policyPath) tc.property('policyPath', v.policyPath);
    if (v.actual === 'not-run') tc.skipped().standardOutput(v.reason);
    else if (!v.pass) tc.failure(`expected ${v.expected}, got ${v.actual}: ${v.reason}`, v.actual);
    else tc.standardOutput(v.reason);
  }
  return builder.build();
}
