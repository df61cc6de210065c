// The local registry on 127.0.0.1:5003 only, and the registries.conf.d entry that tells the
// containers library it speaks plain HTTP.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { stringify } from 'yaml';
import type { Context } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import { must, ok } from '../core/command.js';
import { which } from '../core/which.js';
import type { Step } from '../core/step.js';
import { done, drift, todo } from '../core/step.js';
import { renderInsecureRegistry } from './registries-conf.js';
import { renderRegistryUnit } from '../services/systemd-units.js';
import { isRoot } from '../core/execa-runner.js';
import { unitFileStep } from '../services/unit-file.js';
import { registryService, serviceManager } from '../services/index.js';
import { reloadCrioIfRunning } from '../services/steps.js';
import { registryAnswers } from '../services/specs.js';
import { pidFile } from '../services/supervisor.js';
import { REGISTRY, registryAddress, SYSTEM_PATHS } from '../core/settings.js';
import { statePaths } from '../core/state.js';
import { pathExists } from '../core/fs-exists.js';
import { assertOwnRegistry, REGISTRY_CONTAINER } from './owner.js';

export type RegistryBackend = 'docker' | 'binary';
export { REGISTRY_CONTAINER } from './owner.js';

/** The distribution registry's config: loopback only, data in the state directory. */
export function renderRegistryConfig(dataDir: string): string {
  return stringify({
    version: 0.1,
    log: { level: 'info', fields: { service: 'crio-sigpoc-registry' } },
    storage: { filesystem: { rootdirectory: dataDir }, delete: { enabled: true } },
    http: { addr: registryAddress, headers: { 'X-Content-Type-Options': ['nosniff'] } },
  });
}


/** docker-registry (no download) when installed, Docker's registry:2 otherwise. */
export async function chooseBackend(ctx: Context, wanted: 'auto' | RegistryBackend): Promise<RegistryBackend> {
  if (wanted !== 'auto') return wanted;
  return ctx.memo('registry-backend', async () => {
    // A registry this tool supervises says so by its pid file: no need to ask Docker.
    if (await pathExists(pidFile(ctx, 'registry'))) return 'binary';
    const container = await ctx.probe.run({ file: 'docker', args: ['container', 'inspect', REGISTRY_CONTAINER], privileged: true, readOnly: true });
    if (ok(container)) return 'docker';
    return (await which('docker-registry')) ? 'binary' : 'docker';
  });
}

export function registryConfigStep(): Step {
  return {
    id: 'registry-config',
    title: 'registry configuration (loopback only)',
    async check(ctx) {
      const want = renderRegistryConfig(statePaths(ctx.stateDir).registryData);
      const have = await fs.readFile(statePaths(ctx.stateDir).registryConfig, 'utf8').catch(() => undefined);
      if (have === undefined) return todo('no registry configuration yet');
      return have === want ? done() : drift('registry configuration differs from the rendered one');
    },
    async apply(ctx) {
      const p = statePaths(ctx.stateDir);
      await ctx.state.write(p.registryConfig, renderRegistryConfig(p.registryData));
      if (!ctx.opts.dryRun) await fs.mkdir(p.registryData, { recursive: true });
    },
  };
}

export function registryServiceStep(backend: () => Promise<RegistryBackend>): Step {
  return {
    id: 'registry',
    title: `registry on ${registryAddress}`,
    async check(ctx) {
      if (!(await registryAnswers())) return todo(`nothing answers on http://${registryAddress}/v2/`);
      await assertOwnRegistry(ctx, await backend());
      return done(`http://${registryAddress}/v2/ answers`);
    },
    async apply(ctx) {
      if ((await backend()) === 'binary') {
        if (!(await which('docker-registry'))) {
          throw new EnvironmentError('the docker-registry program is not installed', 'sudo apt-get install docker-registry (or: sudo crio-sigpoc setup)');
        }
        await (await serviceManager(ctx)).start(ctx, registryService(ctx));
        return;
      }
      const data = statePaths(ctx.stateDir).registryData;
      const exists = ok(await ctx.probe.run({ file: 'docker', args: ['container', 'inspect', REGISTRY_CONTAINER], privileged: true, readOnly: true }));
      const args = exists
        ? ['start', REGISTRY_CONTAINER]
        : ['run', '-d', '--name', REGISTRY_CONTAINER, '--restart', 'unless-stopped', '-p', `${REGISTRY.host}:${REGISTRY.port}:5000`, '-v', `${data}:/var/lib/registry`, 'registry:2'];
      await must(ctx.runner, { file: 'docker', args, privileged: true, timeoutMs: 300_000 });
      if (!ctx.opts.dryRun) {
        const { waitFor } = await import('../services/wait.js');
        if (!(await waitFor(registryAnswers, 30_000))) throw new EnvironmentError(`the registry container started but ${registryAddress}/v2/ does not answer`, `sudo docker logs ${REGISTRY_CONTAINER}`);
      }
    },
  };
}

export function insecureRegistryStep(): Step {
  const text = renderInsecureRegistry([registryAddress]);
  return {
    id: 'registry-plain-http',
    title: 'registries.conf.d: local registry is plain HTTP',
    async check(ctx) {
      return (await ctx.files.matches(SYSTEM_PATHS.registriesConfDropin, text)) ? done() : todo(`${SYSTEM_PATHS.registriesConfDropin} is missing or differs`);
    },
    async apply(ctx) {
      await ctx.files.install(SYSTEM_PATHS.registriesConfDropin, text);
      await reloadCrioIfRunning(ctx);
    },
  };
}

/** Under systemd the binary backend runs as crio-sigpoc-registry.service, which the tool writes. */
export function registryUnitStep(): Step {
  return unitFileStep('registry-unit', (ctx) => renderRegistryUnit(registryService(ctx).argv, isRoot() ? undefined : os.userInfo().username));
}

export async function registrySteps(ctx: Context, wanted: 'auto' | RegistryBackend = 'auto'): Promise<Step[]> {
  const backend = (): Promise<RegistryBackend> => chooseBackend(ctx, wanted);
  const steps: Step[] = [];
  if ((await backend()) === 'binary') steps.push(registryConfigStep());
  if ((await backend()) === 'binary' && (await serviceManager(ctx)).mode === 'systemd') steps.push(registryUnitStep());
  steps.push(registryServiceStep(backend), insecureRegistryStep());
  return steps;
}
