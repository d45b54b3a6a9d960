// better-sqlite3 12's Database and Statement are node::ObjectWrap objects.
// Built against Node 24.19+ or 26 headers, their destructor aborts the whole
// process when the garbage collector frees one (nodejs/node#65446, #65262:
// "Assertion failed: (env) != nullptr"). So tw lets none be freed: every
// statement is prepared once per text and kept, with its database, for the
// life of the process, and pragmas go through such statements too (the
// library's db.pragma() prepares a new one each call). A process of tw
// prepares a few dozen texts at most, and exits without closing the store.
import type Database from 'better-sqlite3';

const kept: { db: Database.Database; statements: Map<string, Database.Statement> }[] = [];

export type Sql = (text: string) => Database.Statement;

/** The statement for `text` on `db`, prepared on first use and kept from then on. */
export function statementsOf(db: Database.Database): Sql {
  let entry = kept.find((k) => k.db === db);
  if (!entry) kept.push((entry = { db, statements: new Map() }));
  const { statements } = entry;
  return (text) => {
    let statement = statements.get(text);
    if (!statement) statements.set(text, (statement = db.prepare(text)));
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
