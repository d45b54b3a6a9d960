// Descendants that left the task's process group (`setsid`, `set -m`): a
// group kill misses them. They are found as Jenkins' ProcessTreeKiller finds
// them, by the cookie every descendant inherits in its environment: the
// task's TW_TASK_ID and its store's TW_DB. A process is taken for one only if
// it started after the task's child did (pids are reused) and its environment
// is readable (ours: another user's is not, and is left alone).
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessRef } from '../core/task.js';
import { bootId, readStat } from './proc.js';

const CHECK_EVERY_MS = 25;

/** The processes, outside any group, that carry the task's cookie and started after its child. */
export function findEscaped(child: ProcessRef, taskId: number, storePath: string): ProcessRef[] {
  if (child.bootId !== bootId() || child.startTicks < 0) return [];
  const cookie = [`TW_TASK_ID=${taskId}`, `TW_DB=${storePath}`];
  const found: ProcessRef[] = [];
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // gone, or another user's
    }
    const vars = environ.split('\0');
    if (!cookie.every((c) => vars.includes(c))) continue;
    const stat = readStat(pid);
    if (stat && stat.state !== 'Z' && stat.startTicks >= child.startTicks) found.push({ pid, startTicks: stat.startTicks, bootId: child.bootId });
  }
  return found;
}

/**
 * SIGTERM to each, SIGKILL after the grace to those left; returns the ones
 * that could not be signalled (setuid, say) and still run.
 */
export async function stopEscaped(refs: ProcessRef[], graceMs: number): Promise<ProcessRef[]> {
  const ours = (ref: ProcessRef): boolean => readStat(ref.pid)?.startTicks === ref.startTicks;
  const signal = (ref: ProcessRef, sig: NodeJS.Signals): boolean => {
    if (!ours(ref)) return true; // gone: nothing to do
    try {
      process.kill(ref.pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  const stubborn = refs.filter((ref) => !signal(ref, 'SIGTERM'));
  const alive = () => refs.filter((ref) => ours(ref) && readStat(ref.pid)?.state !== 'Z');
  const deadline = Date.now() + graceMs;
  while (alive().length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS));
  for (const ref of alive()) signal(ref, 'SIGKILL');
  return stubborn.filter(ours);
}

/** Stops the task's descendants that left its process group; warns of those that cannot be stopped. */
export async function stopDescendants(child: ProcessRef, id: number, storePath: string, graceMs: number, warn: (message: string) => void): Promise<void> {
  const escaped = findEscaped(child, id, storePath);
  if (!escaped.length) return;
  const left = await stopEscaped(escaped, graceMs);
  if (left.length) warn(`warning: task ${id} left ${left.length === 1 ? 'a process' : 'processes'} running outside its group that tw may not signal: pid ${left.map((r) => r.pid).join(', ')}`);
}
