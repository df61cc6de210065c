// Everything the tool pins or names in one place, so the docs, the renders and the steps agree.

export const VERSIONS = {
  crio: 'v1.36.3',
  crictl: 'v1.36.0',
  cosign: 'v3.1.2',
  cosignV2: 'v2.6.4',
  /** CRI-O's and the Kubernetes community repository's minor, kept equal. */
  kubeMinor: 'v1.36',
  /** Same minor as CRI-O (kubeMinor): the skew CRI-O supports. */
  kubernetes: 'v1.36.3',
  kine: 'v0.17.5',
} as const;

/** The pause image CRI-O pulls by default, and the packages path keeps. */
export const UPSTREAM_PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

export const REGISTRY = {
  host: '127.0.0.1',
  port: 5003,
} as const;

export const registryAddress = `${REGISTRY.host}:${REGISTRY.port}`;

/** The images the proof needs. The signed one keeps the original's name; content may be built offline. */
export const IMAGES = {
  signed: { repository: `${registryAddress}/alpine`, tag: '3.20.3', upstream: 'docker.io/library/alpine:3.20.3' },
  unsigned: { repository: `${registryAddress}/unsigned/alpine`, tag: '3.20.3', upstream: 'docker.io/library/alpine:3.20.3' },
  pause: { repository: `${registryAddress}/pause`, tag: '3.10' },
} as const;

export const imageRef = (img: { repository: string; tag: string }): string => `${img.repository}:${img.tag}`;

/** System paths as the tool sees them on a real machine; --root prefixes each. */
export const SYSTEM_PATHS = {
  crioConfig: '/etc/crio/crio.conf',
  crioDropinDir: '/etc/crio/crio.conf.d',
  /** Last in lexical order so that our explicit settings win over the packages' 10-crio.conf. */
  crioDropin: '/etc/crio/crio.conf.d/99-crio-sigpoc.conf',
  /** Where the tool points signature_policy when nothing else decides. */
  crioPolicy: '/etc/crio/policy.json',
  libraryDefaultPolicy: '/etc/containers/policy.json',
  namespacePolicyDir: '/etc/crio/policies',
  registriesD: '/etc/containers/registries.d',
  registriesDFile: '/etc/containers/registries.d/crio-sigpoc.yaml',
  registriesConfD: '/etc/containers/registries.conf.d',
  registriesConfDropin: '/etc/containers/registries.conf.d/50-crio-sigpoc-insecure.conf',
  publicKey: '/etc/containers/keys/crio-sigpoc-cosign.pub',
  /** The old key, trusted beside the new one while a rotation is under way. */
  previousPublicKey: '/etc/containers/keys/crio-sigpoc-cosign-previous.pub',
  crioSocket: '/var/run/crio/crio.sock',
  binDir: '/usr/local/bin',
  cniConfDir: '/etc/cni/net.d',
  cniConf: '/etc/cni/net.d/10-crio-sigpoc-bridge.conflist',
  aptKeyringDir: '/etc/apt/keyrings',
  aptSourcesDir: '/etc/apt/sources.list.d',
} as const;

export const LABEL = 'crio-verification';

/** The system directories the tool writes in: its ledger names nothing outside them. */
export const MANAGED_DIRS = ['/etc', '/usr/local/bin', '/root/.kube'] as const;
