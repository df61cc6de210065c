// The step engine itself: a step is applied only when its check says so, checked again after,
// early answers are dropped once something changed, and notified steps run once more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSteps, StepFailed } from '../../src/core/run-steps.js';
import type { Status, Step } from '../../src/core/step.js';
import { done, notifying, todo } from '../../src/core/step.js';
import { FakeRunner, tempDir, testContext } from './setup-fakes.js';

/** A step over one value in a shared world: done when the value is what it wants. */
function valueStep(world: Record<string, number>, id: string, want: number, log: string[], opts: { reads?: string; breaks?: boolean } = {}): Step {
  return {
    id,
    title: id,
    async check(): Promise<Status> {
      log.push(`check ${id}`);
      // A step whose answer depends on another value: stale when that one changes.
      const target = opts.reads ? world[opts.reads] + want : want;
      return world[id] === target ? done() : todo(`${id} is ${world[id]}, not ${target}`);
    },
    async apply(): Promise<void> {
      log.push(`apply ${id}`);
      world[id] = opts.breaks ? -1 : opts.reads ? world[opts.reads] + want : want;
    },
  };
}

const context = async () => testContext(await tempDir('sigpoc-engine-'), new FakeRunner(), { dryRun: false });

test('a done step is not applied; a step that is not done is applied and checked again', async () => {
  const world = { a: 1, b: 0 };
  const log: string[] = [];
  const reports = await runSteps(await context(), [valueStep(world, 'a', 1, log), valueStep(world, 'b', 2, log)]);
  assert.deepEqual(world, { a: 1, b: 2 });
  assert.deepEqual(reports.map((r) => [r.id, r.changed]), [['a', false], ['b', true]]);
  assert.deepEqual(log.filter((l) => l.startsWith('apply')), ['apply b']);
  assert.equal(log.filter((l) => l === 'check b').length, 2, 'b is checked before and after its apply');
});

test('a step that does not converge fails, naming the step and what its check still finds', async () => {
  const world = { a: 0 };
  await assert.rejects(runSteps(await context(), [valueStep(world, 'a', 5, [], { breaks: true })]), (e: unknown) => {
    assert.ok(e instanceof StepFailed);
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /^a failed: did not converge: a is -1, not 5$/);
    return true;
  });
});

test('early checks are dropped after the first change: a later step is checked again against the new state', async () => {
  // b must be a + 10. Asked early, b (=11) looks done for a = 1; once a becomes 2 it is not.
  const world = { a: 1, b: 11 };
  const log: string[] = [];
  await runSteps(await context(), [{ ...valueStep(world, 'a', 2, log) }, valueStep(world, 'b', 10, log, { reads: 'a' })]);
  assert.deepEqual(world, { a: 2, b: 12 });
});

test('a step that changed something notifies the steps it names: each runs once, even when its own check says done', async () => {
  const world = { dropin: 0, binary: 0, service: 1 };
  const log: string[] = [];
  const restarts: string[] = [];
  const service: Step = { ...valueStep(world, 'service', 1, log), apply: async () => void restarts.push('restart') };
  const reports = await runSteps(await context(), [
    notifying(valueStep(world, 'dropin', 1, log), ['service']),
    notifying(valueStep(world, 'binary', 1, log), ['service']),
    service,
  ]);
  assert.deepEqual(restarts, ['restart'], 'two notifications, one restart');
  const r = reports.find((x) => x.id === 'service')!;
  assert.equal(r.changed, true);
  assert.equal(r.before.state === 'done' ? '' : r.before.why, 'to read again what changed: dropin, binary');
});

test('a step that was already done notifies nothing', async () => {
  const world = { dropin: 1, service: 1 };
  const restarts: string[] = [];
  const service: Step = { ...valueStep(world, 'service', 1, []), apply: async () => void restarts.push('restart') };
  await runSteps(await context(), [notifying(valueStep(world, 'dropin', 1, []), ['service']), service]);
  assert.deepEqual(restarts, []);
});
