// The store file: where it lives, how private it is, and how tw reacts to a
// file that is not (or no longer) a store it can use.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { SCHEMA_VERSION } from '../src/store/schema.js';
import { openKept } from '../src/store/statements.js';
import { oneLineError, requireBuild, sandbox, type Sandbox } from './helpers.js';

before(requireBuild);

const mode = (path: string): number => statSync(path).mode & 0o777;

/** The store and every SQLite side file beside it (-wal, -shm) are 0600, its folder 0700. */
function assertPrivate(db: string): void {
  assert.ok(existsSync(db), `${db} was not created`);
  assert.equal(mode(dirname(db)).toString(8), '700', 'folder mode');
  for (const name of readdirSync(dirname(db)).filter((n) => n.startsWith('tw.db'))) {
    assert.equal(mode(join(dirname(db), name)).toString(8), '600', `${name} mode`);
  }
}

test('--db in a new nested folder: created on first use, folder 0700, file 0600', async (t) => {
  const s = sandbox(t);
  const db = join(s.dir, 'a', 'b', 'c', 'tw.db');
  assert.equal((await s.ok(['--db', db, 'reserve'])).trim(), '1');
  assertPrivate(db);
  assert.ok(!existsSync(s.db), 'TW_DB must lose to --db');
  // The same store on the next run, and the flag after the command works too.
  assert.equal((await s.ok(['reserve', '--db', db])).trim(), '2');
});

test('TW_DB names the store when there is no --db', async (t) => {
  const s = sandbox(t);
  const db = join(s.dir, 'env', 'store', 'tw.db');
  assert.equal((await s.ok(['reserve'], { env: { TW_DB: db, XDG_STATE_HOME: join(s.dir, 'xdg') } })).trim(), '1');
  assertPrivate(db);
  assert.ok(!existsSync(join(s.dir, 'xdg')), 'XDG_STATE_HOME must lose to TW_DB');
});

test('XDG_STATE_HOME/tw/tw.db without TW_DB', async (t) => {
  const s = sandbox(t);
  const xdg = join(s.dir, 'xdg');
  assert.equal((await s.ok(['reserve'], { env: { TW_DB: undefined, XDG_STATE_HOME: xdg } })).trim(), '1');
  assertPrivate(join(xdg, 'tw', 'tw.db'));
  assert.ok(!existsSync(join(s.dir, 'home')), 'HOME must lose to XDG_STATE_HOME');
});

test('~/.local/state/tw/tw.db when neither TW_DB nor XDG_STATE_HOME is set', async (t) => {
  const s = sandbox(t);
  const home = join(s.dir, 'home');
  assert.equal((await s.ok(['reserve'], { env: { TW_DB: undefined, XDG_STATE_HOME: undefined, HOME: home } })).trim(), '1');
  assertPrivate(join(home, '.local', 'state', 'tw', 'tw.db'));
});

/** Every command that opens the store refuses it with exit 3 and one line; the file is left as it was. */
async function assertRefused(s: Sandbox, db: string, mention: RegExp): Promise<void> {
  const before = readFileSync(db);
  for (const args of [['reserve'], ['list'], ['describe', '--json']]) {
    const r = await s.run(['--db', db, ...args]);
    assert.equal(r.code, 3, `tw ${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.equal(oneLineError(r.stderr), null);
    assert.match(r.stderr, mention);
    assert.equal(r.stdout, '');
  }
  const launch = await s.run(['--db', db, 'launch', '--', 'true']);
  assert.equal(launch.code, 125, `launch on a bad store exits 125, got ${launch.code}: ${launch.stderr}`);
  assert.equal(oneLineError(launch.stderr), null);
  assert.ok(readFileSync(db).equals(before), 'the refused file was changed');
}

test('a file of random bytes: exit 3, one line, no stack trace', async (t) => {
  const s = sandbox(t);
  const db = join(s.dir, 'garbage.db');
  writeFileSync(db, randomBytes(8192), { mode: 0o600 });
  await assertRefused(s, db, /garbage\.db/);
});

test('a truncated store (its first 100 bytes): exit 3, one line', async (t) => {
  const s = sandbox(t);
  await s.ok(['reserve']);
  const db = join(s.dir, 'truncated.db');
  writeFileSync(db, readFileSync(s.db).subarray(0, 100), { mode: 0o600 });
  await assertRefused(s, db, /corrupt|not a tw store/);
});

test('a zero-length file is a new store', async (t) => {
  const s = sandbox(t);
  const db = join(s.dir, 'empty.db');
  writeFileSync(db, '', { mode: 0o600 });
  assert.equal((await s.ok(['--db', db, 'reserve'])).trim(), '1');
  assert.equal((await s.ok(['--db', db, 'reserve'])).trim(), '2');
});

test("another program's SQLite file: exit 3, 'not a tw store', left untouched", async (t) => {
  const s = sandbox(t);
  const db = join(s.dir, 'other.db');
  const other = openKept(db);
  other.exec("CREATE TABLE foo (x INTEGER); INSERT INTO foo VALUES (42)");
  other.close();
  chmodSync(db, 0o600);
  await assertRefused(s, db, /not a tw store/);
  const check = openKept(db, { readonly: true });
  assert.deepEqual(check.prepare('SELECT name FROM sqlite_master').pluck().all(), ['foo']);
  assert.equal(check.pragma('user_version', { simple: true }), 0);
  check.close();
});

test('a store made by a newer tw: exit 3, one line mentioning newer', async (t) => {
  const s = sandbox(t);
  await s.ok(['reserve']);
  const db = openKept(s.db);
  db.pragma('user_version = 99');
  db.close();
  const r = await s.run(['list']);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(oneLineError(r.stderr), null);
  assert.match(r.stderr, /newer/);
  assert.match(r.stderr, /99/);
  const check = openKept(s.db, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), 99, 'an older tw must not touch a newer store');
  check.close();
});

test('a store that cannot be created (its folder is under a regular file): exit 3, one line', async (t) => {
  const s = sandbox(t);
  const file = join(s.dir, 'plain-file');
  writeFileSync(file, 'not a folder');
  const db = join(file, 'x', 'tw.db');
  for (const args of [['reserve'], ['list']]) {
    const r = await s.run(['--db', db, ...args]);
    assert.equal(r.code, 3, `tw ${args.join(' ')}: ${r.stderr}`);
    assert.equal(oneLineError(r.stderr), null);
    assert.ok(r.stderr.includes(db), `the message names the path: ${r.stderr}`);
  }
  const launch = await s.run(['--db', db, 'launch', '--', 'true']);
  assert.equal(launch.code, 125, launch.stderr);
  assert.equal(oneLineError(launch.stderr), null);
});

test('ids are never reused, even after every task row is deleted', async (t) => {
  const s = sandbox(t);
  for (const want of ['1', '2', '3']) assert.equal((await s.ok(['reserve'])).trim(), want);
  const db = openKept(s.db);
  db.exec('DELETE FROM tasks');
  db.close();
  assert.equal((await s.ok(['reserve'])).trim(), '4');
  const all = await s.json(['list', '--all']);
  assert.deepEqual(all.map((task) => task.id), [4]);
});

test('a store of schema 1 is upgraded in place, its tasks kept', async (t) => {
  const s = sandbox(t);
  await s.ok(['launch', '--name', 'old', '--', 'true']);
  // Put the file back to what schema 1 had: its index, its version.
  const db = openKept(s.db);
  db.exec('DROP INDEX tasks_name_stats; CREATE INDEX tasks_name_ended ON tasks (name, ended_at) WHERE ended_at IS NOT NULL');
  db.exec('ALTER TABLE tasks DROP COLUMN log_offset; ALTER TABLE tasks DROP COLUMN log_end; DROP INDEX tasks_waiting; DROP TABLE start_env');
  db.exec('DROP TABLE types; DROP TABLE attempts; DROP INDEX tasks_retried');
  db.exec('DROP TABLE counters; DROP TABLE ends_total; DROP TABLE name_last; DROP INDEX events_gseq; DROP INDEX messages_gseq');
  db.exec('ALTER TABLE events DROP COLUMN gseq; ALTER TABLE messages DROP COLUMN gseq');
  const newer = ['max_running', 'after_ids', 'waiting_since', 'admitted_at', 'queued', 'attempt', 'max_attempts', 'retry_delay_ms', 'retry_at', 'result', 'ping_url', 'on_end', 'log_max'];
  for (const column of newer) {
    db.exec(`ALTER TABLE tasks DROP COLUMN ${column}`);
  }
  db.pragma('user_version = 1');
  db.close();
  const stats = JSON.parse(await s.ok(['stats', '--name', 'old', '--json'])) as { runs: number }[];
  assert.equal(stats[0]?.runs, 1);
  const check = openKept(s.db, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const indexes = check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'tasks_%'").pluck().all();
  assert.ok(indexes.includes('tasks_name_stats') && !indexes.includes('tasks_name_ended'), String(indexes));
  check.close();
});
