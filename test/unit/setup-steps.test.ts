// Single steps of setup whose real inputs come from the internet (GitHub's cosign release, the
// package repositories): the downloads and dpkg's answers are faked here.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Command } from '../../src/core/command.js';
import { aptPackagesStep, upstreamVersion } from '../../src/setup/apt.js';
import { cosignReleaseStep, expectedSha256 } from '../../src/setup/cosign-release.js';
import { VM_PACKAGES } from '../../src/setup/index.js';
import { dpkgInstalled, FakeRunner, rootFrom, tempDir, testContext } from './setup-fakes.js';

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** curl that "downloads" fixed bodies: the release binary and its checksums file. */
function fakeRelease(binary: string, checksums: string) {
  return new FakeRunner(async (cmd: Command) => {
    if (cmd.file !== 'curl') return undefined;
    const out = cmd.args[cmd.args.indexOf('-o') + 1];
    const url = cmd.args[cmd.args.length - 1];
    await fs.mkdir(path.dirname(out), { recursive: true });
    await fs.writeFile(out, url.endsWith('cosign_checksums.txt') ? checksums : binary);
    return { exitCode: 0 };
  });
}

describe('cosign from its release (faked download: the real one needs GitHub)', () => {
  const binary = 'pretend cosign v3.1.2 for linux/amd64';

  test('checksum mismatch: refused with exit 3, nothing installed, nothing kept under the asset name', async () => {
    const root = await rootFrom('ubuntu-24.04');
    const cache = await tempDir('cache');
    const sums = `${sha('something else')}  cosign-linux-amd64\n${sha(binary)}  cosign-linux-arm64\n`;
    const ctx = testContext(root, fakeRelease(binary, sums), { dryRun: false, cacheDir: cache });
    await assert.rejects(cosignReleaseStep('amd64').apply(ctx), (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 3);
      assert.match(e.message, /checksum mismatch for cosign-linux-amd64/);
      return true;
    });
    await assert.rejects(fs.access(path.join(root, 'usr/local/bin/cosign')));
    assert.deepEqual(await fs.readdir(path.join(cache, 'downloads/cosign@v3.1.2')), ['cosign_checksums.txt']);
  });

  test('no checksum listed for the asset: refused too', async () => {
    const root = await rootFrom('ubuntu-24.04');
    const ctx = testContext(root, fakeRelease(binary, `${sha(binary)}  cosign-linux-s390x\n`), { dryRun: false, cacheDir: await tempDir('cache') });
    await assert.rejects(cosignReleaseStep('amd64').apply(ctx), /lists no checksum for cosign-linux-amd64/);
    await assert.rejects(fs.access(path.join(root, 'usr/local/bin/cosign')));
  });

  test('matching checksum: installed byte for byte, executable', async () => {
    const root = await rootFrom('ubuntu-24.04');
    const sums = `${sha('x')}  cosign-darwin-amd64\n${sha(binary)}  cosign-linux-amd64\n`;
    const ctx = testContext(root, fakeRelease(binary, sums), { dryRun: false, cacheDir: await tempDir('cache') });
    await cosignReleaseStep('amd64').apply(ctx);
    const target = path.join(root, 'usr/local/bin/cosign');
    assert.equal(await fs.readFile(target, 'utf8'), binary);
    assert.equal((await fs.stat(target)).mode & 0o777, 0o755);
  });

  test('the checksums file format: "<sha256>  <name>", binary-mode star accepted', () => {
    const text = `${'a'.repeat(64)}  cosign-linux-amd64.sig\n${'b'.repeat(64)} *cosign-linux-amd64\n`;
    assert.equal(expectedSha256(text, 'cosign-linux-amd64'), 'b'.repeat(64));
    assert.equal(expectedSha256(text, 'cosign-linux-arm64'), undefined);
  });

  test('the installed cosign is judged by its sha256 against the release checksums, never run (--root is inspected as root)', async () => {
    const root = await rootFrom('ubuntu-24.04');
    const cache = await tempDir('cache');
    await fs.mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
    const installed = path.join(root, 'usr/local/bin/cosign');
    await fs.writeFile(installed, '#!/bin/sh\necho GitVersion: v3.1.2\n', { mode: 0o755 });
    const fake = new FakeRunner(() => ({ exitCode: 0, stdout: 'GitVersion:    v3.1.2\n' }));
    const ctx = testContext(root, fake, { cacheDir: cache });
    // No checksums downloaded yet: it cannot be known, so the step downloads and compares.
    assert.equal((await cosignReleaseStep('amd64').check(ctx)).state, 'todo');
    await fs.mkdir(path.join(cache, 'downloads/cosign@v3.1.2'), { recursive: true });
    await fs.writeFile(path.join(cache, 'downloads/cosign@v3.1.2/cosign_checksums.txt'), `${sha(binary)}  cosign-linux-amd64\n`);
    // A script that claims the pinned version is still not the release binary.
    assert.equal((await cosignReleaseStep('amd64').check(ctx)).state, 'drift');
    await fs.writeFile(installed, binary);
    assert.equal((await cosignReleaseStep('amd64').check(ctx)).state, 'done');
    assert.deepEqual(fake.calls, [], 'nothing under the root was executed');
  });
});

describe('apt packages pinned to the CRI-O minor (dpkg answers faked: the packages come from the internet)', () => {
  const installed = { 'cri-o': '1.36.3-1.1', 'cri-tools': '1.36.0-1.1', 'docker.io': '26.1.3-0ubuntu1~24.04.1', conmon: '2.1.10+ds1-1build2', crun: '1.14.1-1', 'containernetworking-plugins': '1.1.1+ds1-3build1', skopeo: '1.13.3+ds1-2' };
  const checkWith = async (pkgs: Record<string, string>) => {
    const root = await rootFrom('ubuntu-24.04');
    const ctx = testContext(root, new FakeRunner((c) => (c.file === 'dpkg-query' ? dpkgInstalled(pkgs) : undefined)));
    return aptPackagesStep('packages', 'packages', VM_PACKAGES).check(ctx);
  };

  test('all installed on 1.36: done', async () => {
    assert.equal((await checkWith(installed)).state, 'done');
  });

  test('CRI-O on another minor: drift naming the pin', async () => {
    const s = await checkWith({ ...installed, 'cri-o': '1.35.2-1.1' });
    assert.deepEqual(s, { state: 'drift', why: 'cri-o is 1.35.2-1.1, wanted 1.36.x' });
  });

  test('a package missing: todo', async () => {
    const { crun: _, ...rest } = installed;
    assert.deepEqual(await checkWith(rest), { state: 'todo', why: 'crun not installed' });
  });

  test('Debian versions: epoch and revision are not part of the upstream version', () => {
    assert.equal(upstreamVersion('1:1.36.3-1.1'), '1.36.3');
    assert.equal(upstreamVersion('2.1.10+ds1-1build2'), '2.1.10+ds1');
  });
});
