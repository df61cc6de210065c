// Exit codes are part of the interface: scripts branch on them.
export const EXIT = { ok: 0, verdict: 1, usage: 2, environment: 3 } as const;

export class SigpocError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The next command (or edit) that moves the user forward. */
    readonly next?: string,
  ) {
    super(message);
  }
}

export class UsageError extends SigpocError {
  constructor(message: string, next?: string) {
    super(message, EXIT.usage, next);
  }
}

export class EnvironmentError extends SigpocError {
  constructor(message: string, next?: string) {
    super(message, EXIT.environment, next);
  }
}
