// Exit codes are part of the interface: scripts branch on them.
// 70 (EX_SOFTWARE of sysexits.h): a bug in the tool, never to be taken for an unready environment.
export const EXIT = { ok: 0, verdict: 1, usage: 2, environment: 3, internal: 70 } as const;

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

/** A bug in the tool: said as such, with the stack under --verbose. */
export class InternalError extends SigpocError {
  constructor(
    message: string,
    readonly original?: unknown,
  ) {
    super(`internal error (a bug in crio-sigpoc): ${message}`, EXIT.internal, 'run it again with --verbose for the stack, and report it with that output');
  }
}

/** A refused system call (ENOENT, EACCES, ENOSPC, ...): the machine is not as the tool needs it. */
const isSystemError = (e: unknown): e is NodeJS.ErrnoException => e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test(String((e as NodeJS.ErrnoException).code)) && 'syscall' in e;

/** What the user is told of any error: the tool's own as they are, a refused system call as the environment, anything else as a bug. */
export function classify(e: unknown): SigpocError {
  if (e instanceof SigpocError) return e;
  if (isSystemError(e)) return new EnvironmentError(e.message);
  return new InternalError(e instanceof Error ? e.message : String(e), e);
}

/** The stack to show under --verbose: the original error's for a bug. */
export const stackOf = (e: SigpocError): string | undefined => (e instanceof InternalError && e.original instanceof Error ? e.original.stack : undefined);
