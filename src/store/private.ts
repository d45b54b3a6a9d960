// Folders and files that are ours and nobody else's, checked as ssh checks
// ~/.ssh: the store's folder and the store's own folder must belong to the
// user and be writable by nobody else (a folder with the sticky bit, /tmp
// itself, may hold a store folder: others cannot rename or delete what is
// ours there); the store file must be the user's, private, and not a link
// or a hard link someone planted. Anything else is refused in one line that
// says what to do, before tw reads, writes or adopts a byte of it.
import { lstatSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { makeFolders } from '../core/files.js';
import { errnoText, storeError } from '../core/errors.js';
import { ownFolder } from './location.js';

const uid = (): number => process.getuid?.() ?? -1;
const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(3, '0');

function owner(stat: Stats, path: string): void {
  if (stat.uid !== uid()) throw storeError(`refusing ${path}: it belongs to uid ${stat.uid}, not to you (uid ${uid()}); use a store of your own (--db, TW_DB)`);
}

/** The folder a store is in: the user's, and writable by nobody else unless sticky. */
export function checkStoreFolder(dir: string): void {
  let stat: Stats;
  try {
    stat = statSync(dir);
  } catch (e) {
    throw storeError(`cannot use the store folder ${dir}: ${errnoText(e)}`);
  }
  if (!stat.isDirectory()) throw storeError(`cannot use the store folder ${dir}: not a directory`);
  // Sticky, as /tmp, and root's or ours: others can neither replace nor remove what is ours there.
  if (stat.mode & 0o1000 && (stat.uid === 0 || stat.uid === uid())) return;
  owner(stat, dir);
  if (stat.mode & 0o022) throw storeError(`refusing the store folder ${dir}: others can write to it (mode ${octal(stat.mode)}); run chmod go-w ${dir}`);
}

/** An existing store file (and its -wal and -shm): the user's, private, one link, no symbolic link of another's. */
export function checkStoreFile(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    const link = lstatSync(file, { throwIfNoEntry: false });
    if (!link) continue;
    if (link.isSymbolicLink()) owner(link, file);
    const stat = link.isSymbolicLink() ? statSync(file, { throwIfNoEntry: false }) : link;
    if (!stat) continue;
    owner(stat, file);
    if (stat.isFile() && stat.nlink > 1) throw storeError(`refusing ${file}: it has ${stat.nlink} hard links; a store is one file (copy it: cp ${file} NEW)`);
    if (file === path && stat.mode & 0o077) throw storeError(`refusing ${file}: others can read or write it (mode ${octal(stat.mode)}); run chmod 600 ${file}`);
  }
}

/**
 * Makes (0700) and checks the store's own folder, where its logs, generated
 * feedback files and named pipes go: a real folder (no link), the user's,
 * open to nobody else. Also checks the folder the store is in.
 */
export function prepareOwnFolder(storePath: string): string {
  const home = dirname(storePath);
  const own = ownFolder(storePath);
  try {
    makeFolders(own);
  } catch (e) {
    throw storeError(`cannot make ${own}: ${errnoText(e)}`);
  }
  checkStoreFolder(home);
  const stat = lstatSync(own);
  if (!stat.isDirectory()) throw storeError(`refusing ${own}: not a folder of tw's (a link?); remove it and try again`);
  owner(stat, own);
  if (stat.mode & 0o077) throw storeError(`refusing ${own}: others can use it (mode ${octal(stat.mode)}); run chmod 700 ${own}`);
  return own;
}
