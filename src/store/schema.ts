// Numbered, append-only migrations. Each runs in the immediate transaction that
// also bumps user_version, so racing first users apply it exactly once.

/** Stored in the header so a stranger's SQLite file is told apart from a new one. */
export const APPLICATION_ID = 0x74770001;

export const MIGRATIONS: readonly string[] = [
  // 1: tasks, their messages and their state events.
  `
  CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    info TEXT NOT NULL DEFAULT '{}',
    command TEXT,
    cwd TEXT,
    host TEXT,
    pid INTEGER,
    pid_start INTEGER,
    launcher_pid INTEGER,
    launcher_start INTEGER,
    boot_id TEXT,
    reserved_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    heartbeat_at INTEGER,
    exit_code INTEGER,
    signal TEXT,
    timeout_ms INTEGER,
    grace_ms INTEGER,
    progress TEXT,
    feedback TEXT,
    ignored_lines INTEGER NOT NULL DEFAULT 0,
    log_path TEXT,
    feedback_path TEXT,
    cancel_requested_at INTEGER
  );
  CREATE INDEX tasks_state ON tasks (state);
  CREATE INDEX tasks_name_state ON tasks (name, state);
  CREATE INDEX tasks_ended ON tasks (ended_at) WHERE ended_at IS NOT NULL;
  CREATE INDEX tasks_name_ended ON tasks (name, ended_at) WHERE ended_at IS NOT NULL;
  CREATE TABLE messages (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    text TEXT NOT NULL,
    stacktrace TEXT,
    PRIMARY KEY (task_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE events (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
  ) WITHOUT ROWID;
  `,
  // 2: stats per name read only this index, never the rows.
  `
  CREATE INDEX tasks_name_stats ON tasks (name, ended_at, started_at, state) WHERE ended_at IS NOT NULL;
  DROP INDEX tasks_name_ended;
  `,
  // 3: a log the user names may hold other runs' output: the task's own is [log_offset, log_end).
  `
  ALTER TABLE tasks ADD COLUMN log_offset INTEGER;
  ALTER TABLE tasks ADD COLUMN log_end INTEGER;
  `,
  // 4: queues. A queued task's limit, order and place (since when); whether it has won a slot
  // (its starter is in launcher_*); queued: 1 when its own launcher starts it, 2 when anyone may
  // (launch --detach), with the environment to start it with in a table of its own, so that task
  // rows stay small (an environment is kilobytes) and it goes once the task runs.
  `
  ALTER TABLE tasks ADD COLUMN max_running INTEGER;
  ALTER TABLE tasks ADD COLUMN after_ids TEXT;
  ALTER TABLE tasks ADD COLUMN waiting_since INTEGER;
  ALTER TABLE tasks ADD COLUMN admitted_at INTEGER;
  ALTER TABLE tasks ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX tasks_waiting ON tasks (waiting_since, id) WHERE state = 'waiting';
  CREATE TABLE start_env (
    task_id INTEGER PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    env TEXT NOT NULL
  );
  `,
  // 5: types (what every task of a name shares), retries, and the task's result.
  `
  CREATE TABLE types (
    name TEXT PRIMARY KEY,
    max_running INTEGER,
    max_waiting INTEGER,
    timeout_ms INTEGER,
    grace_ms INTEGER,
    retries INTEGER,
    retry_delay_ms INTEGER,
    keep_ms INTEGER,
    keep_last INTEGER,
    ping TEXT,
    on_end TEXT
  ) WITHOUT ROWID;
  ALTER TABLE tasks ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE tasks ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE tasks ADD COLUMN retry_delay_ms INTEGER;
  ALTER TABLE tasks ADD COLUMN retry_at INTEGER;
  ALTER TABLE tasks ADD COLUMN result TEXT;
  CREATE INDEX tasks_retried ON tasks (name, ended_at, attempt) WHERE attempt > 1;
  CREATE TABLE attempts (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    exit_code INTEGER,
    signal TEXT,
    log_start INTEGER NOT NULL,
    log_end INTEGER,
    PRIMARY KEY (task_id, attempt)
  ) WITHOUT ROWID;
  UPDATE tasks SET result = (SELECT text FROM messages m WHERE m.task_id = tasks.id AND m.type = 'result' ORDER BY seq DESC LIMIT 1);
  `,
  // 6: telling the world. Every event and message gets a store-wide sequence number, from a
  // counter bumped inside its write transaction (so in commit order), never reused; ends are
  // counted per name and state, and each name's last end kept, in tables no prune touches;
  // a task's ping URL and on-end command.
  `
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  ALTER TABLE events ADD COLUMN gseq INTEGER;
  ALTER TABLE messages ADD COLUMN gseq INTEGER;
  CREATE TEMP TABLE numbered AS
    SELECT kind, task_id, seq, row_number() OVER (ORDER BY at, task_id, kind, seq) AS n
    FROM (SELECT 0 AS kind, task_id, seq, at FROM events UNION ALL SELECT 1, task_id, seq, at FROM messages);
  CREATE INDEX temp.numbered_key ON numbered (kind, task_id, seq);
  UPDATE events SET gseq = (SELECT n FROM numbered WHERE kind = 0 AND numbered.task_id = events.task_id AND numbered.seq = events.seq);
  UPDATE messages SET gseq = (SELECT n FROM numbered WHERE kind = 1 AND numbered.task_id = messages.task_id AND numbered.seq = messages.seq);
  INSERT INTO counters VALUES ('seq', (SELECT COALESCE(max(n), 0) FROM numbered));
  DROP TABLE numbered;
  CREATE INDEX events_gseq ON events (gseq);
  CREATE INDEX messages_gseq ON messages (gseq);
  CREATE TABLE ends_total (
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (name, state)
  ) WITHOUT ROWID;
  INSERT INTO ends_total SELECT name, state, count(*) FROM tasks WHERE ended_at IS NOT NULL GROUP BY name, state;
  CREATE TABLE name_last (
    name TEXT PRIMARY KEY,
    ended_at INTEGER,
    succeeded_at INTEGER,
    duration_ms INTEGER
  ) WITHOUT ROWID;
  INSERT INTO name_last
    SELECT name, max(ended_at),
      (SELECT max(ended_at) FROM tasks s WHERE s.name = t.name AND s.state = 'succeeded' AND s.ended_at IS NOT NULL),
      (SELECT ended_at - started_at FROM tasks d WHERE d.name = t.name AND d.ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT 1)
    FROM tasks t WHERE ended_at IS NOT NULL GROUP BY name;
  ALTER TABLE tasks ADD COLUMN ping_url TEXT;
  ALTER TABLE tasks ADD COLUMN on_end TEXT;
  ALTER TABLE tasks ADD COLUMN log_max INTEGER;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
