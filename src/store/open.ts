// Opening the store: folder and file created private on first use, schema
// checked and migrated, and every SQLite failure turned into one line, exit 3.
import Database from 'better-sqlite3';
import { closeSync, constants, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { makeFolders } from '../core/files.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errnoText, storeError, TwError } from '../core/errors.js';
import { sleepSync } from '../core/sleep.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { checkStoreFile, checkStoreFolder } from './private.js';
import { SqliteStore } from './sqlite-store.js';
import { keepDatabase, pragmaValue, statementsOf, type Sql } from './statements.js';
import type { Store } from './store.js';

// better-sqlite3 is bundled; its addon is loaded by path, which skips the
// `bindings` package's costly search (3-5 ms of every command's start).
// The package is found as node would (node_modules here or in a folder above), with a stat per
// folder rather than node's resolver, which reads package.json files (1-2 ms); the resolver only
// when that fails (NODE_PATH, say).
const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
const ADDON = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
function nativeBinding(): string {
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    if (existsSync(join(dir, ADDON))) return join(dir, ADDON);
    if (dirname(dir) === dir) break;
  }
  return join(dirname(createRequire(here).resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
}

/** Long enough to outwait any other tw's write: every transaction here is short. */
const BUSY_TIMEOUT_MS = 60_000;

export function openStore(path: string): Store {
  // The usual case: the store is there, in a folder that is ours. Else it is created:
  // O_EXCL settles a race for a new store, and neither follows nor adopts what is there.
  if (checkHeader(path)) return openChecked(path);
  try {
    makeFolders(dirname(path));
  } catch (e) {
    throw storeError(`cannot create the store ${path}: ${errnoText(e)}`);
  }
  checkStoreFolder(dirname(path));
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw storeError(`cannot create the store ${path}: ${errnoText(e)}`);
    checkHeader(path);
  }
  return openChecked(path);
}

function openChecked(path: string): Store {
  checkStoreFolder(dirname(path));
  checkStoreFile(path);
  return openExisting(path);
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * SQLite takes a short non-empty file for a new database and overwrites it:
 * refuse anything that is not one. Returns whether there is a file to open.
 */
function checkHeader(path: string): boolean {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO at the store's path must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Nothing there (ENOTDIR too): the create says what is wrong; else SQLite's own open does (permissions, say).
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
  try {
    if (!fstatSync(fd).isFile()) throw storeError(`${path} is not a tw store (not a regular file)`);
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const got = readSync(fd, head, 0, head.length, 0);
    if (got > 0 && !head.subarray(0, got).equals(SQLITE_HEADER.subarray(0, got))) throw storeError(`${path} is not a tw store (not an SQLite file)`);
    if (got > 0 && got < head.length) throw storeError(`${path} is not a tw store or is truncated`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function openExisting(path: string): Store {
  return guarded(path, () => {
    const db = new Database(path, { timeout: BUSY_TIMEOUT_MS, nativeBinding: nativeBinding() });
    keepDatabase(db);
    try {
      prepareRetrying(db, path);
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteStore(db, path);
  });
}

/**
 * Racing first users of a new store (one turning it to WAL, another migrating
 * it while still in rollback mode) can deadlock on its locks; SQLite then
 * answers one of them SQLITE_BUSY at once rather than waiting. That one holds
 * nothing any more and tries again, after a short random pause.
 */
function prepareRetrying(db: Database.Database, path: string): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return prepare(db, path);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw e;
      if (db.inTransaction) db.exec('ROLLBACK');
      sleepSync(5 + Math.random() * 45);
    }
  }
}

function prepare(db: Database.Database, path: string): void {
  const sql = statementsOf(db);
  const userVersion = () => pragmaValue(sql, 'user_version') as number;
  // A store of this schema is the common case: one statement tells. Else one read transaction,
  // so that a racing first user's migration is seen whole or not at all.
  let version = userVersion();
  if (version < SCHEMA_VERSION) {
    version = db.transaction(() => {
      const v = userVersion();
      if (v < SCHEMA_VERSION) checkOwnership(sql, path, v);
      return v;
    })();
  }
  if (version > SCHEMA_VERSION) {
    throw storeError(`${path} was made by a newer tw (schema ${version} > ${SCHEMA_VERSION}); upgrade tw`);
  }
  if (version === 0) {
    // Both must precede the first table; both persist in the file.
    db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    sql('PRAGMA journal_mode = WAL').get(); // it returns a row: exec would not do
  }
  // Connections are never closed (see the CLI entry), so the WAL is only cut back at checkpoints: keep it small.
  db.exec('PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 4194304; PRAGMA foreign_keys = ON');
  if (version < SCHEMA_VERSION) {
    db.transaction(() => {
      // Re-read inside the lock: a racing first user may have migrated already.
      version = userVersion();
      for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
      db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${SCHEMA_VERSION}`);
    }).immediate();
  }
}

function checkOwnership(sql: Sql, path: string, version: number): void {
  const appId = pragmaValue(sql, 'application_id') as number;
  if (appId === APPLICATION_ID) return;
  const tables = sql(`SELECT count(*) FROM sqlite_master`).pluck().get() as number;
  if (version !== 0 || tables > 0) throw storeError(`${path} is not a tw store (it is another program's SQLite file)`);
}

/** Wraps every call so that an SQLite failure reaches the user as one line with exit 3. */
function guarded(path: string, open: () => SqliteStore): Store {
  const store = translate(path, open);
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => translate(path, () => (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}

function translate<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TwError) throw e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) throw storeError(describeSqliteError(path, code, (e as Error).message));
    throw e;
  }
}

function describeSqliteError(path: string, code: string, message: string): string {
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return `${path} is not a tw store or is corrupt (${message})`;
  if (code.startsWith('SQLITE_READONLY')) return `${path} is read-only (${message})`;
  if (code === 'SQLITE_FULL') return `cannot write ${path}: the disk is full`;
  if (code.startsWith('SQLITE_CANTOPEN')) return `cannot open ${path} (${message}); check the folder's permissions`;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return `${path} stayed busy for ${BUSY_TIMEOUT_MS / 1000}s; another process holds it`;
  return `store ${path}: ${message} (${code})`;
}
