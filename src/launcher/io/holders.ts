// Who else holds a pipe: each open descriptor in /proc/PID/fd stats as the
// file it is open on (our named pipes included), by device and inode. Asked only when output is still open a while after the
// child's end, to tell a process outside the task's group that holds it from
// a machine that is merely slow to deliver the end of file.
import { fstatSync, readdirSync, statSync } from 'node:fs';

export function pipeHeldElsewhere(fds: number[]): boolean {
  const wanted = new Set<string>();
  for (const fd of fds) {
    try {
      const stat = fstatSync(fd);
      wanted.add(`${stat.dev}:${stat.ino}`);
    } catch {
      // closed already
    }
  }
  if (!wanted.size) return false;
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57 || Number(entry) === process.pid) continue;
    let fdNames: string[];
    try {
      fdNames = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or another user's: not ours to know (and it could not have our pipe but by our children)
    }
    for (const name of fdNames) {
      try {
        const stat = statSync(`/proc/${entry}/fd/${name}`, { throwIfNoEntry: false });
        if (stat && wanted.has(`${stat.dev}:${stat.ino}`)) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}
