import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { renderCrioDropin } from '../../src/crio/dropin.js';
import { defaultPolicySettings, pauseScope, policyText, renderPolicy } from '../../src/policy/render.js';
import { renderInsecureRegistry } from '../../src/registry/registries-conf.js';
import { registriesDText, renderRegistriesD } from '../../src/policy/registries-d-render.js';
import { registryAddress } from '../../src/core/settings.js';

test('config/policy.json is exactly what the tool renders by default', () => {
  assert.equal(readFileSync('config/policy.json', 'utf8'), policyText(renderPolicy(defaultPolicySettings())));
});

test('config/registries.d/default.yaml is exactly what the tool renders', () => {
  assert.equal(readFileSync('config/registries.d/default.yaml', 'utf8'), registriesDText(renderRegistriesD([registryAddress])));
});

test('policy rejects by default, requires our cosign key with matchRepository, lets the pause registry in', () => {
  const p = renderPolicy(defaultPolicySettings());
  assert.deepEqual(p.default, [{ type: 'reject' }]);
  assert.deepEqual(p.transports.docker['127.0.0.1:5003'], [
    { type: 'sigstoreSigned', keyPath: '/etc/containers/keys/crio-sigpoc-cosign.pub', signedIdentity: { type: 'matchRepository' } },
  ]);
  assert.deepEqual(p.transports.docker['registry.k8s.io'], [{ type: 'insecureAcceptAnything' }]);
  // No Rekor key: with one, a transparency-log proof would become mandatory for key-only signatures.
  assert.ok(!JSON.stringify(p).includes('rekor'));
});

test('the pause scope is its repository inside the signed registry, its host elsewhere', () => {
  assert.equal(pauseScope('127.0.0.1:5003/pause:3.10', '127.0.0.1:5003'), '127.0.0.1:5003/pause');
  assert.equal(pauseScope('registry.k8s.io/pause:3.10', '127.0.0.1:5003'), 'registry.k8s.io');
  assert.equal(pauseScope('registry.k8s.io/pause@sha256:abc', '127.0.0.1:5003'), 'registry.k8s.io');
});

test('registries.d turns on sigstore attachments and never uses the lookaside `sigstore:` key', () => {
  const doc = parseYaml(registriesDText(renderRegistriesD([registryAddress])));
  assert.deepEqual(doc, { docker: { '127.0.0.1:5003': { 'use-sigstore-attachments': true } } });
});

test('registries.conf.d drop-in marks the local registry insecure (plain HTTP)', () => {
  const doc = parseToml(renderInsecureRegistry([registryAddress, 'localhost:5003'])) as { registry: { location: string; insecure: boolean }[] };
  assert.deepEqual(JSON.parse(JSON.stringify(doc.registry)), [
    { location: '127.0.0.1:5003', insecure: true },
    { location: 'localhost:5003', insecure: true },
  ]);
});

test('CRI-O drop-in sets signature_policy explicitly and conmon_cgroup only for cgroupfs', () => {
  const systemd = parseToml(renderCrioDropin({ cgroupManager: 'systemd', pauseImage: 'registry.k8s.io/pause:3.10', signaturePolicy: '/etc/crio/policy.json' })) as any;
  assert.equal(systemd.crio.image.signature_policy, '/etc/crio/policy.json');
  assert.equal(systemd.crio.image.pause_image, 'registry.k8s.io/pause:3.10');
  assert.equal(systemd.crio.runtime.cgroup_manager, 'systemd');
  assert.equal(systemd.crio.runtime.conmon_cgroup, undefined);
  const cgroupfs = parseToml(renderCrioDropin({ cgroupManager: 'cgroupfs', pauseImage: 'x', signaturePolicy: '/p.json', cniPluginDirs: ['/usr/lib/cni'], logLevel: 'debug' })) as any;
  // log_level lives in [crio.runtime]; anywhere else CRI-O ignores it and never logs the policy path.
  assert.equal(cgroupfs.crio.runtime.log_level, 'debug');
  assert.equal(cgroupfs.crio.log_level, undefined);
  assert.equal(cgroupfs.crio.runtime.conmon_cgroup, 'pod');
  assert.deepEqual(cgroupfs.crio.network.plugin_dirs, ['/usr/lib/cni']);
});

test('during a key rotation the policy trusts the new and the old key (keyPaths), and the library reads it so', async () => {
  const { decodePolicy } = await import('../../src/policy/library-policy.js');
  const p = renderPolicy({ ...defaultPolicySettings(), previousKeyPath: '/etc/containers/keys/crio-sigpoc-cosign-previous.pub' });
  assert.deepEqual(p.transports.docker[registryAddress], [
    { type: 'sigstoreSigned', keyPaths: ['/etc/containers/keys/crio-sigpoc-cosign.pub', '/etc/containers/keys/crio-sigpoc-cosign-previous.pub'], signedIdentity: { type: 'matchRepository' } },
  ]);
  assert.equal(decodePolicy(policyText(p)).ok, true);
  assert.deepEqual(p.default, [{ type: 'reject' }]);
});
