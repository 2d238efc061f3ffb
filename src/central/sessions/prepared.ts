// Prepared SQLite statements kept per database and SQL text, so the session
// code's frequent statements (a slot saved before every reply that depends on
// it, chat stored with every hand-off) and the login tokens' (one per login)
// are compiled once, not on every call.
// Only caches: it never changes what a statement does, and forgets a
// database's statements when the database object goes.
import type Database from "better-sqlite3";

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** `db.prepare(sql)`, compiled once per database. */
export function prepared(db: Database.Database, sql: string): Database.Statement {
  let statements = cache.get(db);
  if (!statements) {
    statements = new Map();
    cache.set(db, statements);
  }
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}
