import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verdict, verdictExitCode, summarize } from '../../src/verify/verdict.js';
import { verdictTable } from '../../src/verify/table.js';
import { junitReport } from '../../src/verify/junit.js';
import { colourWanted } from '../../src/ui/colour.js';

const REJECT_REASON = 'SignatureValidationFailed: Source image rejected: A signature was required, but no signature exists';

const signedOk = verdict({ name: 'signed', image: '127.0.0.1:5003/alpine:3.20.3', expected: 'accepted', actual: 'accepted', reason: 'Running', policyPath: '/etc/crio/policy.json', durationMs: 1500 });
const unsignedOk = verdict({ name: 'unsigned', image: '127.0.0.1:5003/unsigned/alpine:3.20.3', expected: 'rejected', actual: 'rejected', reason: REJECT_REASON, policyPath: '/etc/crio/policy.json', durationMs: 800 });
const unsignedError = verdict({ name: 'unsigned', image: '127.0.0.1:5003/unsigned/alpine:3.20.3', expected: 'rejected', actual: 'error', reason: 'dial tcp 127.0.0.1:5003: connect: connection refused', durationMs: 10 });
const notRun = verdict({ name: 'signed', image: '127.0.0.1:5003/alpine:3.20.3', expected: 'accepted', actual: 'not-run', reason: 'CRI-O is not reachable', durationMs: 0 });

const ANSI = /\u001b\[/;

test('a verdict passes only when the runtime decided as expected; an error is never a rejection', () => {
  assert.equal(signedOk.pass, true);
  assert.equal(unsignedOk.pass, true);
  assert.equal(unsignedError.pass, false);
  assert.equal(notRun.pass, false);
  assert.equal(verdict({ ...unsignedOk, actual: 'accepted' }).pass, false);
});

test('exit code is 0 when every verdict is right, 1 when one is wrong, errored or did not run', () => {
  assert.equal(verdictExitCode([signedOk, unsignedOk]), 0);
  assert.equal(verdictExitCode([signedOk, unsignedError]), 1);
  assert.equal(verdictExitCode([notRun, unsignedOk]), 1);
  assert.deepEqual(summarize([signedOk, unsignedError, notRun]), { total: 3, passed: 1, failed: 0, errors: 1, notRun: 1 });
});

test('the table shows each case, its result and the full reason, without colour when not wanted', async () => {
  const out = await verdictTable([signedOk, unsignedError], { colour: false, width: 200 });
  assert.doesNotMatch(out, ANSI);
  assert.match(out, /signed .*127\.0\.0\.1:5003\/alpine:3\.20\.3 .*accepted .*accepted .*PASS/);
  assert.match(out, /policy: \/etc\/crio\/policy\.json · 1500 ms/, 'each row names the policy file CRI-O used and the duration');
  assert.match(out, /policy: not in the log · 10 ms/);
  assert.match(out, /unsigned .*rejected .*error .*FAIL .*connection refused/);
  assert.match(out, /1\/2 verdicts as expected, 1 error/);
  assert.match(out, /policy CRI-O used: \/etc\/crio\/policy\.json/);
  assert.doesNotMatch(out, /Node/, 'no node column when no verdict names a node');
});

test('a long reason wraps to the terminal width instead of being cut', async () => {
  const out = await verdictTable([unsignedOk], { colour: false, width: 120 });
  for (const line of out.split('\n')) assert.ok(line.length <= 120, `line too long: ${line}`);
  assert.doesNotMatch(out, /…/, 'nothing is truncated');
  const text = out.replace(/[│\s]+/g, ' ');
  assert.ok(text.includes('A signature was required, but no signature exists'), 'the whole reason is in the table');
});

test('the table gains a node column for per-node verdicts and colours results when asked', async () => {
  const out = await verdictTable([{ ...unsignedOk, node: 'worker-1' }], { colour: true, width: 200 });
  assert.match(out, /Node/);
  assert.match(out, /worker-1/);
  assert.match(out, ANSI);
});

test('NO_COLOR switches colour off even on a terminal; pipes get none', () => {
  assert.equal(colourWanted({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colourWanted({ isTTY: true }, {}), true);
  assert.equal(colourWanted({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count (no-color.org)');
  assert.equal(colourWanted({ isTTY: false }, {}), false);
  assert.equal(colourWanted({ isTTY: false }, { FORCE_COLOR: '1' }), true);
});

test('JUnit: one testcase per verdict, a failure with expected/actual/reason, skipped for not-run', async () => {
  const xml = await junitReport([signedOk, unsignedError, notRun, { ...unsignedOk, node: 'node-a' }], 'crio-sigpoc test-pods');
  assert.match(xml, /<testsuites tests="4" failures="1" errors="0" skipped="1"/);
  assert.equal((xml.match(/<testcase /g) ?? []).length, 4);
  assert.match(xml, /<testcase classname="crio-sigpoc.test-pods" name="unsigned" time="0.01">/);
  assert.match(xml, /<failure message="expected rejected, got error: dial tcp 127.0.0.1:5003: connect: connection refused" type="error"\/>/);
  assert.match(xml, /<testcase classname="crio-sigpoc.test-pods" name="signed" time="0">[\s\S]*?<skipped\/>[\s\S]*?CRI-O is not reachable/);
  assert.match(xml, /name="unsigned on node-a"/);
  assert.match(xml, /<property name="policyPath" value="\/etc\/crio\/policy.json"\/>/);
});

test('JUnit reports are independent of each other', async () => {
  await junitReport([signedOk], 'crio-sigpoc a');
  const second = await junitReport([unsignedOk], 'crio-sigpoc b');
  assert.equal((second.match(/<testcase /g) ?? []).length, 1);
});
