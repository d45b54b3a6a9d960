// Deleting the files of deleted tasks: only the exact files tw made for them
// beside the store (a path the user named is theirs to keep), and only if they
// are still what tw made there.
import { lstatSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ownFileOf } from './location.js';

export interface TaskFileRemover {
  /** Removes what tw made of these files (a prune or delete calls it before the rows go: that frees room on a full disk). */
  remove(files: { id: number; path: string }[]): void;
  /** One warning if some were left in place. */
  warnKept(warn: (message: string) => void): void;
}

export function taskFileRemover(storePath: string): TaskFileRemover {
  const home = dirname(storePath);
  let kept = 0;
  return {
    remove(files) {
      for (const file of files) {
        const rel = ownFileOf(storePath, file.path, file.id);
        if (rel !== null && !removeOwnFile(home, rel)) kept++;
      }
    },
    warnKept(warn) {
      if (kept) warn(`warning: left ${kept} file${kept === 1 ? '' : 's'} in place that tw did not make as they are now (a folder, a link, another owner's)`);
    },
  };
}

/**
 * Removes `home/rel` only if it is what tw made there: a plain file of ours in
 * a real folder of ours (never through a link, never a folder). Says whether
 * it is gone.
 */
function removeOwnFile(home: string, rel: string): boolean {
  const uid = process.getuid?.() ?? -1;
  try {
    const folder = lstatSync(join(home, dirname(rel)));
    if (!folder.isDirectory() || folder.uid !== uid) return false;
    const file = lstatSync(join(home, rel), { throwIfNoEntry: false });
    if (!file) return true;
    if (!file.isFile() || file.uid !== uid) return false;
    unlinkSync(join(home, rel));
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
