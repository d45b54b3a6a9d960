// What /proc says about a process: a pid is ours only if its start time (and
// the boot) match what was recorded, since pids are reused.
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { ProcessRef } from '../core/task.js';

let cachedBootId: string | undefined;
export function bootId(): string {
  return (cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
}

/** Field 22 of /proc/PID/stat (clock ticks since boot), or null if there is no such process. */
export function startTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

export function processRef(pid: number): ProcessRef | null {
  const ticks = startTicks(pid);
  return ticks === null ? null : { pid, startTicks: ticks, bootId: bootId() };
}

/** Alive and the very process that was recorded (not a zombie awaiting its parent). */
export function isAlive(ref: ProcessRef | null): boolean {
  if (!ref || ref.bootId !== bootId()) return false;
  return startTicks(ref.pid) === ref.startTicks && !isZombie(ref.pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** Whether any process still belongs to the process group led by (or once led by) pid. */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // kill(0) succeeds for zombies too, and an orphan's zombie waits for a reaper that may be slow.
  return hasLiveMember(pgid);
}

function hasLiveMember(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
    } catch {
      // gone since the listing
    }
  }
  return false;
}

/**
 * Signals the child's whole process group, but only if the group is still the
 * task's: its leader is the recorded process, or the leader is gone and no
 * other process has taken its pid (then the group's members are the task's).
 */
export function signalGroup(ref: ProcessRef, signal: NodeJS.Signals): boolean {
  if (ref.bootId !== bootId()) return false;
  const ticks = startTicks(ref.pid);
  if (ticks !== null && ticks !== ref.startTicks) return false;
  try {
    process.kill(-ref.pid, signal);
    return true;
  } catch {
    return false;
  }
}

export const signalNumber = (name: string): number => constants.signals[name as NodeJS.Signals] ?? 0;
