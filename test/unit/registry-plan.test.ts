// The registry's Docker backend needs registry:2 from Docker Hub, which this machine cannot reach:
// it is tested here as a plan (the exact docker argv), the binary backend for real in e2e.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createContext } from '../../src/core/context.js';
import { renderRegistryConfig, registryServiceStep } from '../../src/registry/registry.js';
import { silentLog } from '../../src/ui/log.js';
import { parse } from 'yaml';
import { FakeRunner, scripted } from '../helpers/fake-runner.js';

test('plan: the Docker backend runs registry:2 published on 127.0.0.1:5003 only, data in the state directory', async () => {
  const state = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-state-'));
  const runner = new FakeRunner(scripted([{ argv: ['docker', 'container', 'inspect'], result: { exitCode: 1, stderr: 'Error: No such container: crio-sigpoc-registry' } }]));
  const ctx = createContext({ root: '/', dryRun: true, json: true, verbose: false, yes: true }, { real: runner, log: silentLog, stateDir: state });
  ctx.recorder.step = 'registry';
  await registryServiceStep(async () => 'docker').apply(ctx);
  assert.deepEqual(
    ctx.recorder.actions.map((a) => (a.kind === 'run' ? a.argv : [])),
    [['docker', 'run', '-d', '--name', 'crio-sigpoc-registry', '--restart', 'unless-stopped', '-p', '127.0.0.1:5003:5000', '-v', `${state}/registry/data:/var/lib/registry`, 'registry:2']],
  );
});

test('the binary backend listens on 127.0.0.1:5003, never on all interfaces', () => {
  const cfg = parse(renderRegistryConfig('/var/lib/crio-sigpoc/registry/data'));
  assert.equal(cfg.http.addr, '127.0.0.1:5003');
  assert.equal(cfg.storage.filesystem.rootdirectory, '/var/lib/crio-sigpoc/registry/data');
});
