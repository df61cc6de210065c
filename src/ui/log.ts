// Human output goes to stderr so that --json on stdout stays one clean document.
export interface Log {
  info(msg: string): void;
  warn(msg: string): void;
  /** Shown only with --verbose. */
  debug(msg: string): void;
}

export function consoleLog(opts: { verbose: boolean }): Log {
  return {
    info: (m) => process.stderr.write(m + '\n'),
    warn: (m) => process.stderr.write(m + '\n'),
    debug: (m) => {
      if (opts.verbose) process.stderr.write(m + '\n');
    },
  };
}

export const silentLog: Log = { info() {}, warn() {}, debug() {} };
