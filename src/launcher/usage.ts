// CPU and memory of each task's whole process group, straight from /proc:
// one pass over the process table however many tasks are shown.
import { readdirSync, readFileSync } from 'node:fs';

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
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    if (!pgids.has(pgrp)) continue;
    const cpuSeconds = (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
    const alive = Math.max(0.01, uptime - Number(f[19]) / CLOCK_TICKS);
    const usage = out.get(pgrp) ?? { cpuPercent: 0, rssBytes: 0 };
    usage.cpuPercent += (100 * cpuSeconds) / alive;
    usage.rssBytes += Number(f[21]) * PAGE_BYTES;
    out.set(pgrp, usage);
  }
  return out;
}
