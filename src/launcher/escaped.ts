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
export function findEscaped(child: ProcessRef, taskId: number, storePath: string, ranMs: number): ProcessRef[] {
  if (child.bootId !== bootId() || child.startTicks < 0) return [];
  const cookie = [`TW_TASK_ID=${taskId}`, `TW_DB=${storePath}`];
  const found: ProcessRef[] = [];
  const newer = ranMs < PID_SHORTCUT_MS ? newerPids(child.pid) : () => true;
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid
    const pid = Number(entry);
    if (pid === process.pid || !newer(pid)) continue;
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
 * Which pids can belong to processes started after `pid`: the kernel hands
 * out pids in turn, and /proc/loadavg's last field is the last one it gave.
 * Unless the numbering wrapped since (the last is below `pid`), only pids in
 * between can: the environments of older processes need not be read at all.
 * Used for tasks shorter than PID_SHORTCUT_MS only: in that time no machine
 * hands out pid_max (4 million) pids and wraps past `pid` again.
 */
const PID_SHORTCUT_MS = 10 * 60_000;
function newerPids(pid: number): (candidate: number) => boolean {
  let last: number;
  try {
    last = Number(readFileSync('/proc/loadavg', 'latin1').trim().split(' ').pop());
  } catch {
    return () => true;
  }
  return Number.isSafeInteger(last) && last >= pid ? (candidate) => candidate > pid && candidate <= last : () => true;
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
export async function stopDescendants(child: ProcessRef, id: number, storePath: string, ranMs: number, graceMs: number, warn: (message: string) => void): Promise<void> {
  const escaped = findEscaped(child, id, storePath, ranMs);
  if (!escaped.length) return;
  const left = await stopEscaped(escaped, graceMs);
  if (left.length) warn(`warning: task ${id} left ${left.length === 1 ? 'a process' : 'processes'} running outside its group that tw may not signal: pid ${left.map((r) => r.pid).join(', ')}`);
}
