// The systemd units the tool writes itself, on a systemd host where no package brings one: CRI-O
// built from source (setup --from source) and the distribution registry binary.

export interface UnitFile {
  /** The unit's name, as systemctl takes it. */
  unit: string;
  path: string;
  content: string;
}

export const UNIT_DIR = '/etc/systemd/system';
/** The first line of every unit the tool writes: how clean-all tells its units from a package's. */
export const UNIT_MARK = '# Written by crio-sigpoc';

/** Every unit the tool may write. */
export const TOOL_UNITS = ['crio.service', 'crio-sigpoc-registry.service'] as const;

const unitFile = (unit: string, content: string): UnitFile => ({ unit, path: `${UNIT_DIR}/${unit}`, content });

/** CRI-O tells systemd when it is ready (sd_notify) and re-reads registries.conf on SIGHUP. */
export function renderCrioUnit(crio: string): UnitFile {
  return unitFile(
    'crio.service',
    [
      `${UNIT_MARK} (setup --from source): CRI-O built from its Go module.`,
      '[Unit]',
      'Description=CRI-O container runtime (crio-sigpoc build)',
      'Wants=network-online.target',
      'After=network-online.target',
      '',
      '[Service]',
      'Type=notify',
      `ExecStart=${crio}`,
      'ExecReload=/bin/kill -s HUP $MAINPID',
      'Restart=on-failure',
      'RestartSec=5',
      'TasksMax=infinity',
      'LimitNOFILE=1048576',
      'OOMScoreAdjust=-999',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  );
}

/** The registry serves loopback only (its config says so) and runs as the user whose state holds its data. */
export function renderRegistryUnit(argv: string[], user?: string): UnitFile {
  return unitFile(
    'crio-sigpoc-registry.service',
    [
      `${UNIT_MARK}: the local test registry on 127.0.0.1:5003.`,
      '[Unit]',
      'Description=crio-sigpoc local registry (distribution)',
      'After=network.target',
      '',
      '[Service]',
      ...(user ? [`User=${user}`] : []),
      `ExecStart=${argv.join(' ')}`,
      'Restart=on-failure',
      'RestartSec=2',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  );
}
