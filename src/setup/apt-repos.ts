// The two package repositories of the VM path, as cri-o/packaging's README adds them: the
// repository's Release.key dearmored into /etc/apt/keyrings, and a one-line list with signed-by.
import path from 'node:path';
import { must } from '../core/command.js';
import type { Step } from '../core/step.js';
import { done, drift, todo } from '../core/step.js';
import { SYSTEM_PATHS, VERSIONS } from '../core/settings.js';
import { download } from './download.js';
import { installFromFile } from './install-file.js';

export interface AptRepo {
  id: string;
  name: string;
  /** The repository root; Release.key lives right under it. */
  url: string;
  keyring: string;
  list: string;
}

export const CRIO_REPO: AptRepo = {
  id: 'crio-repo',
  name: `CRI-O repository isv:cri-o:stable:${VERSIONS.kubeMinor}`,
  url: `https://download.opensuse.org/repositories/isv:/cri-o:/stable:/${VERSIONS.kubeMinor}/deb/`,
  keyring: `${SYSTEM_PATHS.aptKeyringDir}/cri-o-apt-keyring.gpg`,
  list: `${SYSTEM_PATHS.aptSourcesDir}/cri-o.list`,
};

/** cri-tools (crictl) comes from the Kubernetes community repository of the same minor. */
export const KUBERNETES_REPO: AptRepo = {
  id: 'kubernetes-repo',
  name: `Kubernetes repository core:/stable:/${VERSIONS.kubeMinor}`,
  url: `https://pkgs.k8s.io/core:/stable:/${VERSIONS.kubeMinor}/deb/`,
  keyring: `${SYSTEM_PATHS.aptKeyringDir}/kubernetes-apt-keyring.gpg`,
  list: `${SYSTEM_PATHS.aptSourcesDir}/kubernetes.list`,
};

export const renderSourcesList = (r: AptRepo): string => `deb [signed-by=${r.keyring}] ${r.url} /\n`;

export function aptRepoStep(repo: AptRepo): Step {
  return {
    id: repo.id,
    title: `${repo.name} (${repo.keyring}, ${repo.list})`,
    async check(ctx) {
      const list = await ctx.files.read(repo.list);
      if (!(await ctx.files.exists(repo.keyring))) return todo(`no keyring ${repo.keyring}`);
      if (list === undefined) return todo(`no ${repo.list}`);
      if (list !== renderSourcesList(repo)) return drift(`${repo.list} differs from the expected entry`);
      return done();
    },
    async apply(ctx) {
      const dir = path.join(ctx.cacheDir, 'downloads', repo.id);
      const key = path.join(dir, 'Release.key');
      const dearmored = path.join(dir, path.basename(repo.keyring));
      await download(ctx, `${repo.url}Release.key`, key);
      await must(ctx.runner, { file: 'gpg', args: ['--batch', '--yes', '--dearmor', '-o', dearmored, key] });
      await installFromFile(ctx, repo.keyring, dearmored, 0o644);
      await ctx.files.install(repo.list, renderSourcesList(repo), 0o644);
    },
  };
}
