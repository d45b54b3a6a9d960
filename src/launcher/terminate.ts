// SIGTERM (or the signal the launcher got) to the whole process group, SIGKILL after the grace: one escalation
// shared by the launcher (timeout, signals, leftovers) and `tw cancel`.
import type { ProcessRef } from '../core/task.js';
import { groupExists, signalGroup } from './proc.js';

const CHECK_EVERY_MS = 25;

export type Termination = 'already-gone' | 'terminated' | 'killed' | 'not-ours';

export async function terminateGroup(ref: ProcessRef, graceMs: number, first: NodeJS.Signals = 'SIGTERM'): Promise<Termination> {
  if (!groupExists(ref.pid)) return 'already-gone';
  if (!signalGroup(ref, first)) return groupExists(ref.pid) ? 'not-ours' : 'already-gone';
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS));
    if (!groupExists(ref.pid)) return 'terminated';
  }
  signalGroup(ref, 'SIGKILL');
  return 'killed';
}
