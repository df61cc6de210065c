// The one CRI-O drop-in the tool writes. Named 99-… so it is applied after the packages' own.
import { stringify } from 'smol-toml';

export interface CrioDropinSettings {
  cgroupManager: 'systemd' | 'cgroupfs';
  pauseImage: string;
  /** Set explicitly: CRI-O re-checks images at container creation only when it is set. */
  signaturePolicy: string;
  /** Lab only: where Debian's CNI plugins live, the storage driver, the runtime. */
  cniPluginDirs?: string[];
  storageDriver?: string;
  logLevel?: string;
  /** Lab only: an OCI runtime other than CRI-O's default crun. */
  runtime?: { name: string; path: string; root: string };
}

export function renderCrioDropin(s: CrioDropinSettings): string {
  const runtime: Record<string, unknown> = { cgroup_manager: s.cgroupManager };
  if (s.logLevel) runtime.log_level = s.logLevel;
  if (s.runtime) {
    runtime.default_runtime = s.runtime.name;
    runtime.runtimes = { [s.runtime.name]: { runtime_path: s.runtime.path, runtime_type: 'oci', runtime_root: s.runtime.root } };
  }
  // conmon must live in the pod's cgroup when no systemd manages cgroups.
  if (s.cgroupManager === 'cgroupfs') runtime.conmon_cgroup = 'pod';
  const crio: Record<string, unknown> = {};
  if (s.storageDriver) crio.storage_driver = s.storageDriver;
  const doc: Record<string, unknown> = {
    crio: {
      ...crio,
      runtime,
      image: { pause_image: s.pauseImage, signature_policy: s.signaturePolicy },
      ...(s.cniPluginDirs ? { network: { plugin_dirs: s.cniPluginDirs } } : {}),
    },
  };
  return '# Written by crio-sigpoc; clean-all removes it.\n' + stringify(doc) + '\n';
}
