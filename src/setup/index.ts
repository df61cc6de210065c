// The ordered steps of `setup`, per path. Both end in the same tail: CRI-O's drop-in, then the
// services, so that the lab exercises exactly the configuration a VM gets. --with-kubernetes adds
// a single-node cluster on that CRI-O: kubeadm on a VM, built from source and supervised in the lab.
import type { Step } from '../core/step.js';
import type { Host } from '../core/host.js';
import { renderCrioUnit } from '../services/systemd-units.js';
import { SYSTEM_PATHS, VERSIONS } from '../core/settings.js';
import { unitFileStep } from '../services/unit-file.js';
import { aptPackagesStep } from './apt.js';
import { aptRepoStep, CRIO_REPO, KUBERNETES_REPO } from './apt-repos.js';
import { installCrioBinariesStep, installKubernetesBinariesStep, installToolsStep } from './binaries.js';
import { cniStep } from './cni.js';
import { cosignReleaseStep } from './cosign-release.js';
import type { SetupSource } from './crio-dropin.js';
import { crioDropinStep } from './crio-dropin.js';
import { COSIGN_V2, COSIGN_V3, CRICTL, crioBuildStep, goInstallStep, pinnsBuildStep } from './go-build.js';
import { crioServiceStep, dockerServiceStep } from '../services/install.js';
import { kubeadmSteps } from './kubernetes/kubeadm.js';
import { kubernetesBuildSteps } from './kubernetes/build.js';
import { KUBERNETES_SERVICE_STEPS, kubernetesLabSteps } from './kubernetes/lab.js';

export type { SetupSource };

/** '1.36.': the upstream version prefix of packages pinned to the minor in VERSIONS. */
const pinnedMinor = `${VERSIONS.kubeMinor.replace(/^v/, '')}.`;

export const VM_PACKAGES = [
  { name: 'cri-o', versionPrefix: pinnedMinor },
  { name: 'cri-tools', versionPrefix: pinnedMinor },
  { name: 'docker.io' },
  { name: 'conmon' },
  { name: 'crun' },
  { name: 'containernetworking-plugins' },
  // The matrix's GPG simple signing (case 17): skopeo signs with gpg (Debian's skopeo and Ubuntu's do).
  { name: 'skopeo' },
];

/** Runtime pieces from Debian, what building CRI-O (cgo, seccomp) and pinns needs, and the matrix's GPG signer. */
export const LAB_PACKAGES = ['conmon', 'crun', 'runc', 'containernetworking-plugins', 'docker.io', 'docker-registry', 'busybox-static', 'libseccomp-dev', 'pkg-config', 'gcc', 'gpg', 'skopeo'].map((name) => ({ name }));

function packagesPath(host: Host): Step[] {
  return [
    aptPackagesStep('apt-prerequisites', 'apt prerequisites: curl, gpg, ca-certificates', [{ name: 'curl' }, { name: 'gpg' }, { name: 'ca-certificates' }]),
    aptRepoStep(CRIO_REPO),
    aptRepoStep(KUBERNETES_REPO),
    aptPackagesStep('packages', `packages: cri-o and cri-tools ${pinnedMinor}x, docker.io, conmon, crun, containernetworking-plugins, skopeo`, VM_PACKAGES),
    cosignReleaseStep(host.arch),
  ];
}

function sourcePath(host: Host): Step[] {
  return [
    aptPackagesStep('apt-packages', `Debian packages: ${LAB_PACKAGES.map((p) => p.name).join(', ')}`, LAB_PACKAGES),
    goInstallStep('build-crictl', CRICTL),
    goInstallStep('build-cosign', COSIGN_V3),
    goInstallStep('build-cosign-v2', COSIGN_V2),
    crioBuildStep(),
    pinnsBuildStep(),
    installToolsStep(),
    installCrioBinariesStep(),
    cniStep(),
    // No package brings a crio.service for this build: the tool writes the one it enables.
    ...(host.systemd ? [unitFileStep('crio-unit', () => renderCrioUnit(`${SYSTEM_PATHS.binDir}/crio`))] : []),
  ];
}

/** --with-kubernetes: the builds come before CRI-O starts, the cluster after it answers. */
function kubernetesSteps(from: SetupSource): { before: Step[]; after: Step[] } {
  if (from === 'packages') return { before: [], after: kubeadmSteps(pinnedMinor) };
  return {
    before: [...kubernetesBuildSteps(), installKubernetesBinariesStep(KUBERNETES_SERVICE_STEPS)],
    after: kubernetesLabSteps(),
  };
}

export function setupSteps(host: Host, from: SetupSource, opts: { kubernetes?: boolean } = {}): Step[] {
  const k8s = opts.kubernetes ? kubernetesSteps(from) : { before: [], after: [] };
  return [
    ...(from === 'packages' ? packagesPath(host) : sourcePath(host)),
    ...k8s.before,
    crioDropinStep(host, from),
    crioServiceStep(host),
    dockerServiceStep(host),
    ...k8s.after,
  ];
}
