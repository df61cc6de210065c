// Undo that runs however a piece of work ends: with a result, with an error, or by SIGINT/SIGTERM.
import os from 'node:os';

/**
 * Runs work, then undo. On SIGINT or SIGTERM while work runs, undo runs first and the process
 * exits 128 + the signal's number (130, 143). A second signal during undo exits at once, after
 * saying what is left and which command removes it.
 */
export async function withUndo<T>(work: () => Promise<T>, undo: () => Promise<void>, leftover: string): Promise<T> {
  let undoing: Promise<void> | undefined;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = 128 + (os.constants.signals[signal] ?? 0);
    if (signalled) {
      process.stderr.write(`\n${signal} again: stopping now; ${leftover}\n`);
      process.exit(code);
    }
    signalled = true;
    process.stderr.write(`\n${signal}: undoing what this run added to the node before exiting\n`);
    undoing ??= undo();
    void undoing.catch((e: Error) => void process.stderr.write(`could not undo: ${e.message}; ${leftover}\n`)).finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    // After a signal the exit comes from onSignal, once its undo is done.
    if (signalled) await new Promise<never>(() => {});
    undoing ??= undo();
    try {
      await undoing;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
