// better-sqlite3 12's Database and Statement are node::ObjectWrap objects.
// Built against Node 24.19+ or 26 headers, their destructor aborts the whole
// process when the garbage collector frees one (nodejs/node#65446, #65262:
// "Assertion failed: (env) != nullptr"). So tw lets none be freed: every
// statement is prepared once per text and kept, with its database, for the
// life of the process, and pragmas go through such statements too (the
// library's db.pragma() prepares a new one each call). A process of tw
// prepares a few dozen texts at most, and exits without closing the store.
import Database from 'better-sqlite3';

const kept: { db: Database.Database; statements: Map<string, Database.Statement> }[] = [];

export type Sql = (text: string) => Database.Statement;

/** The statement for `text` on `db`, prepared on first use and kept from then on. */
export function statementsOf(db: Database.Database): Sql {
  let entry = kept.find((k) => k.db === db);
  if (!entry) kept.push((entry = { db, statements: new Map() }));
  const { statements } = entry;
  return (text) => {
    let statement = statements.get(text);
    // The library's own prepare: openKept puts sql itself in db.prepare's place.
    if (!statement) statements.set(text, (statement = Database.prototype.prepare.call(db, text)));
    return statement;
  };
}

/** A pragma's single value (`PRAGMA user_version`), through a kept statement. */
export function pragmaValue(sql: Sql, pragma: string): unknown {
  return sql(`PRAGMA ${pragma}`).pluck().get();
}

/** Keeps a database that will not be used (a failed open) from ever being freed. */
export function keepDatabase(db: Database.Database): void {
  statementsOf(db);
}

/**
 * A database opened outside the store (tests, the bench) with the same care:
 * its prepare() and pragma() keep what they make, and it is kept itself.
 */
export function openKept(path: string, options?: Database.Options): Database.Database {
  const db = new Database(path, options);
  const sql = statementsOf(db);
  db.prepare = ((text: string) => sql(text)) as typeof db.prepare;
  db.pragma = ((source: string, opts?: { simple?: boolean }) => {
    const statement = sql(`PRAGMA ${source}`);
    if (!statement.reader) return statement.run();
    return opts?.simple ? statement.pluck().get() : statement.pluck(false).all();
  }) as typeof db.pragma;
  return db;
}
