// The one way the tool asks a person before a change that cannot be undone: on a terminal, a
// yes/no question (no by default, Ctrl-C is a no); without one, the caller's --yes is required.
// Tests pass their own Confirmation.
export interface Confirmation {
  tty: boolean;
  confirm(message: string): Promise<boolean>;
}

export const terminalConfirmation: Confirmation = {
  tty: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  async confirm(message) {
    const { confirm } = await import('@inquirer/prompts');
    return confirm({ message, default: false }).catch(() => false);
  },
};
