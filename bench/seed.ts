// Fills a store with terminal tasks directly through better-sqlite3, much
// faster than launching them. The store must already exist (made by tw itself,
// so the schema and pragmas are tw's); the columns follow src/store/schema.ts.
import { openKept } from '../src/store/statements.js';

export const NAMES = ['backup', 'etl', 'report', 'sync', 'cleanup', 'deploy', 'reindex', 'mail', 'thumbs', 'billing'] as const;

/** Deterministic, so two runs seed the same store. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedResult {
  rows: number;
  ms: number;
  perName: Record<string, number>;
}

/**
 * Inserts `count` terminal tasks ending over the past `spanDays`, oldest first
 * (ids ascending with ended_at, as real history grows), in one transaction.
 * States: ~90% succeeded, 6% failed, 2% timed_out, 1.5% cancelled, 0.5% lost.
 */
export function seedHistory(dbPath: string, count: number, spanDays = 365, names: readonly string[] = NAMES): SeedResult {
  const t0 = performance.now();
  const db = openKept(dbPath);
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < 1) throw new Error(`${dbPath}: no tw schema yet (user_version ${version})`);
    db.pragma('synchronous = OFF');
    const insert = db.prepare(
      `INSERT INTO tasks (name, state, info, command, cwd, host, pid, pid_start, launcher_pid, launcher_start, boot_id,
         reserved_at, started_at, ended_at, heartbeat_at, exit_code, signal, timeout_ms, grace_ms, ignored_lines)
       VALUES (?, ?, ?, ?, '/srv/jobs', 'vm', ?, ?, ?, ?, 'seeded-boot', ?, ?, ?, ?, ?, ?, ?, 10000, 0)`,
    );
    const rnd = mulberry32(42);
    const perName: Record<string, number> = {};
    const now = Date.now();
    const first = now - spanDays * 86_400_000;
    const step = (now - first - 60_000) / Math.max(1, count);
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const name = names[Math.floor(rnd() * names.length)]!;
        perName[name] = (perName[name] ?? 0) + 1;
        const r = rnd();
        const [state, exitCode, signal] =
          r < 0.9 ? ['succeeded', 0, null] : r < 0.96 ? ['failed', 1, null] : r < 0.98 ? ['timed_out', 124, null] : r < 0.995 ? ['cancelled', null, 'SIGTERM'] : ['lost', null, null];
        const ended = Math.floor(first + i * step);
        const durationMs = Math.floor(500 + rnd() * rnd() * 600_000);
        const started = ended - durationMs;
        const reserved = started - Math.floor(rnd() * 50);
        const info = i % 3 === 0 ? `{"host":"db${i % 7}"}` : '{}';
        const command = JSON.stringify([`/usr/local/bin/${name}`, '--run', String(i)]);
        const pid = 1000 + (i % 30000);
        insert.run(
          name,
          state,
          info,
          command,
          pid,
          100_000 + i,
          pid + 1,
          100_000 + i,
          reserved,
          started,
          ended,
          ended,
          exitCode,
          signal,
          state === 'timed_out' ? 3_600_000 : null,
        );
      }
      // What tw keeps beside the tasks for metrics, as its ends would have left it.
      db.exec(`DELETE FROM ends_total; INSERT INTO ends_total SELECT name, state, count(*) FROM tasks WHERE ended_at IS NOT NULL GROUP BY name, state`);
      db.exec(`DELETE FROM name_last; INSERT INTO name_last SELECT name, max(ended_at),
        (SELECT max(ended_at) FROM tasks s WHERE s.name = t.name AND s.state = 'succeeded' AND s.ended_at IS NOT NULL),
        (SELECT ended_at - started_at FROM tasks d WHERE d.name = t.name AND d.ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT 1)
        FROM tasks t WHERE ended_at IS NOT NULL GROUP BY name`);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { rows: count, ms: performance.now() - t0, perName };
  } finally {
    db.close();
  }
}

export interface StoreShape {
  /** Tasks with the name asked for (e.g. the racing launches). */
  named: number;
  tasks: number;
  terminal: number;
  pages: number;
  freePages: number;
  pageSize: number;
}

/** Counts and page figures, read with a read-only connection. */
export function storeShape(dbPath: string, name = ''): StoreShape {
  const db = openKept(dbPath, { readonly: true });
  try {
    const row = db.prepare(`SELECT count(*) AS tasks, count(ended_at) AS terminal FROM tasks`).get() as { tasks: number; terminal: number };
    const named = (db.prepare(`SELECT count(*) AS n FROM tasks WHERE name = ? AND state = 'succeeded'`).get(name) as { n: number }).n;
    return {
      ...row,
      named,
      pages: db.pragma('page_count', { simple: true }) as number,
      freePages: db.pragma('freelist_count', { simple: true }) as number,
      pageSize: db.pragma('page_size', { simple: true }) as number,
    };
  } finally {
    db.close();
  }
}
