// What /proc says about a process: a pid is ours only if its start time (and
// the boot) match what was recorded, since pids are reused.
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessRef } from '../core/task.js';

let cachedBootId: string | undefined;
export function bootId(): string {
  return (cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
}

/** The fields of /proc/PID/stat that tw uses, or null if there is no such process. */
export interface Stat {
  state: string;
  pgrp: number;
  /** The terminal's foreground process group. */
  tpgid: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** Clock ticks since boot: with the pid, what makes a process unambiguous. */
  startTicks: number;
  rssPages: number;
}

export function readStat(pid: number | string): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may hold spaces and parentheses: count the fields after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0]!, pgrp: Number(f[2]), tpgid: Number(f[5]), cpuTicks: Number(f[11]) + Number(f[12]), startTicks: Number(f[19]), rssPages: Number(f[21]) };
}

export function processRef(pid: number): ProcessRef | null {
  const stat = readStat(pid);
  return stat && { pid, startTicks: stat.startTicks, bootId: bootId() };
}

/** Alive and the very process that was recorded (not a zombie awaiting its parent). */
export function isAlive(ref: ProcessRef | null): boolean {
  if (!ref || ref.bootId !== bootId()) return false;
  const stat = readStat(ref.pid);
  return stat !== null && stat.startTicks === ref.startTicks && stat.state !== 'Z';
}

/** Every process's stat, one pass over /proc. */
export function* allStats(): Generator<Stat> {
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid
    const stat = readStat(entry);
    if (stat) yield stat;
  }
}

/** kill(target, 0): a process (a group, for a negative target) by that id exists, ours to signal or not. */
export function processExists(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether any process still belongs to the process group led by (or once led by) pid. */
export function groupExists(pgid: number): boolean {
  if (!processExists(-pgid)) return false;
  // kill(0) succeeds for zombies too, and an orphan's zombie waits for a reaper that may be slow.
  return hasLiveMember(pgid);
}

function hasLiveMember(pgid: number): boolean {
  for (const stat of allStats()) if (stat.pgrp === pgid && stat.state !== 'Z') return true;
  return false;
}

/**
 * Whether the process group led by (or once led by) the recorded process is
 * still the task's: its leader is that very process, or the leader is gone and
 * no other process has taken its pid (then the group's members are the task's).
 */
export function isOurGroup(ref: ProcessRef): boolean {
  if (ref.bootId !== bootId()) return false;
  const stat = readStat(ref.pid);
  return stat === null || stat.startTicks === ref.startTicks;
}

/** Some process of the task's group still runs (the leader, or what it left behind). */
export const groupAlive = (ref: ProcessRef | null): boolean => ref !== null && isOurGroup(ref) && groupExists(ref.pid);

/** Signals the child's whole process group, only while it is still the task's. */
export function signalGroup(ref: ProcessRef, signal: NodeJS.Signals): boolean {
  if (!isOurGroup(ref)) return false;
  try {
    process.kill(-ref.pid, signal);
    return true;
  } catch {
    return false;
  }
}

