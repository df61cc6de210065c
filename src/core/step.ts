import type { Context } from './context.js';

/** What a read-only check found. */
export type Status = { state: 'done'; detail?: string } | { state: 'todo' | 'drift'; why: string };

/** One converging step, in the spirit of Ansible's check mode: check is read-only, apply is safe to repeat. */
export interface Step {
  id: string;
  title: string;
  check(ctx: Context): Promise<Status>;
  apply(ctx: Context): Promise<void>;
  /**
   * Ids of later steps that must run again when this one changed something (a service that has
   * to restart to read it), as Ansible handlers are notified: the engine runs each once.
   */
  notifies?: string[];
}

/** The step, declaring the restarts it needs when it changes something. */
export const notifying = (step: Step, ids: string[]): Step => ({ ...step, notifies: [...(step.notifies ?? []), ...ids] });

export const done = (detail?: string): Status => ({ state: 'done', detail });
export const todo = (why: string): Status => ({ state: 'todo', why });
export const drift = (why: string): Status => ({ state: 'drift', why });
