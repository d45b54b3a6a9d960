// CPU and memory of each task's whole process group, straight from /proc:
// one pass over the process table however many tasks are shown.
import { readFileSync } from 'node:fs';
import { allStats } from './proc.js';

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux tw runs on
const PAGE_BYTES = 4096;

export interface Usage {
  cpuPercent: number;
  rssBytes: number;
}

/** Usage per process group id, for the groups asked about; average CPU since each process started. */
export function groupUsage(pgids: ReadonlySet<number>): Map<number, Usage> {
  const out = new Map<number, Usage>();
  if (pgids.size === 0) return out;
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  for (const stat of allStats()) {
    if (!pgids.has(stat.pgrp)) continue;
    const alive = Math.max(0.01, uptime - stat.startTicks / CLOCK_TICKS);
    const usage = out.get(stat.pgrp) ?? { cpuPercent: 0, rssBytes: 0 };
    usage.cpuPercent += (100 * stat.cpuTicks) / CLOCK_TICKS / alive;
    usage.rssBytes += stat.rssPages * PAGE_BYTES;
    out.set(stat.pgrp, usage);
  }
  return out;
}
