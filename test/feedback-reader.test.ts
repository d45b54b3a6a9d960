import { test, mock, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { FeedbackReader } from '../src/feedback/reader.js';
import { feed, newParser, parseBuffer, valuesOf } from '../src/feedback/parser.js';
import { changeFile } from './helpers.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-feedback-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let serial = 0;
const freshPath = () => path.join(root, `feedback-${++serial}`);

/** What a reader that polled just now should hold: the file's complete lines. */
function unfinished(buf: Uint8Array) {
  const state = newParser();
  feed(state, buf);
  return { values: valuesOf(state), ignored: state.ignored };
}

function holds(reader: FeedbackReader) {
  return { values: reader.values, ignored: reader.ignored };
}

test('appended writes are read incrementally and match a whole-file parse', () => {
  const file = freshPath();
  const reader = new FeedbackReader(file);
  const parts = ['[a]1\n[b]', '2\n[c', ']3\n', 'bad line\n[progress]3/8', '\n[a]\n'];
  for (const part of parts) {
    fs.appendFileSync(file, part);
    assert.equal(reader.poll().changed, true);
    assert.deepEqual(holds(reader), unfinished(fs.readFileSync(file)));
  }
  assert.deepEqual(reader.progress, { done: 3, total: 8 });
  reader.finish();
  assert.deepEqual(holds(reader), parseBuffer(fs.readFileSync(file)));
  assert.equal(JSON.stringify(reader.values), '{"b":"2","c":"3","progress":"3/8"}');
});

test('a poll reads only the appended bytes', () => {
  const file = freshPath();
  fs.writeFileSync(file, '[a]1\n'.repeat(200_000));
  const reader = new FeedbackReader(file);
  reader.poll();
  const reads = mock.method(fs, 'readSync');
  try {
    fs.appendFileSync(file, '[b]22\n');
    reader.poll();
    const bytes = reads.mock.calls.reduce((sum, call) => sum + Number(call.result ?? 0), 0);
    // The 6 new bytes, plus the 64 before the offset read again to notice an in-place rewrite.
    assert.equal(bytes, 6 + 64);
  } finally {
    reads.mock.restore();
  }
  assert.deepEqual(reader.values, { a: '1', b: '22' });
});

test('changed is a heartbeat: size, mtime or identity', () => {
  const file = freshPath();
  const reader = new FeedbackReader(file);
  assert.deepEqual(reader.poll(), { changed: false, exists: false, error: null, more: false });
  fs.writeFileSync(file, '[a]1\n');
  assert.equal(reader.poll().changed, true);
  assert.equal(reader.poll().changed, false);
  fs.utimesSync(file, new Date(2_000_000_000_000), new Date(2_000_000_000_000));
  assert.equal(reader.poll().changed, true);
  assert.equal(reader.poll().changed, false);
});

test('a truncated file is read again from the start', () => {
  const file = freshPath();
  fs.writeFileSync(file, '[a]1\n[b]2\n');
  const reader = new FeedbackReader(file);
  reader.poll();
  fs.writeFileSync(file, '[c]3\n');
  reader.poll();
  assert.deepEqual(holds(reader), { values: { c: '3' }, ignored: 0 });
});

test('a file unlinked and recreated with the same size is read anew', () => {
  const file = freshPath();
  fs.writeFileSync(file, '[a]1\nnoise\n');
  const reader = new FeedbackReader(file);
  reader.poll();
  fs.unlinkSync(file);
  fs.writeFileSync(file, '[b]2\n[c]33\n');
  assert.equal(reader.poll().changed, true);
  assert.deepEqual(holds(reader), { values: { b: '2', c: '33' }, ignored: 0 });
});

test('a file renamed over the old one with the same size is read anew', () => {
  const file = freshPath();
  fs.writeFileSync(file, '[a]1\n');
  const reader = new FeedbackReader(file);
  reader.poll();
  fs.writeFileSync(`${file}.tmp`, '[b]2\n');
  fs.renameSync(`${file}.tmp`, file);
  reader.poll();
  assert.deepEqual(reader.values, { b: '2' });
});

test('a vanished file keeps its values and reports the change once', () => {
  const file = freshPath();
  fs.writeFileSync(file, '[a]1\n');
  const reader = new FeedbackReader(file);
  reader.poll();
  fs.unlinkSync(file);
  assert.deepEqual(reader.poll(), { changed: true, exists: false, error: null, more: false });
  assert.deepEqual(reader.poll(), { changed: false, exists: false, error: null, more: false });
  assert.deepEqual(reader.values, { a: '1' });
});

test('a directory, a FIFO or an unreadable file never throws', (t) => {
  const dir = freshPath();
  fs.mkdirSync(dir);
  const result = new FeedbackReader(dir).poll();
  assert.equal(result.exists, false);
  assert.match(result.error ?? '', /not a regular file/);
  assert.equal(new FeedbackReader(path.join(root, 'no', 'such')).poll().exists, false);
  assert.equal(new FeedbackReader(path.join(root, 'a\0b')).poll().exists, false);

  const fifo = freshPath();
  try {
    execFileSync('mkfifo', [fifo]);
    assert.equal(new FeedbackReader(fifo).finish().exists, false);
  } catch (e) {
    if (fs.existsSync(fifo)) throw e;
    t.diagnostic('mkfifo unavailable; FIFO case skipped');
  }

  if (process.getuid?.() === 0) return t.diagnostic('running as root; unreadable case skipped');
  const locked = freshPath();
  fs.writeFileSync(locked, '[a]1\n');
  fs.chmodSync(locked, 0o000);
  const denied = new FeedbackReader(locked).poll();
  assert.equal(denied.exists, true);
  assert.match(denied.error ?? '', /EACCES/);
});

test('finish takes the unterminated last line; later polls change nothing', () => {
  const file = freshPath();
  fs.writeFileSync(file, '[a]1\n[progress]40%');
  const reader = new FeedbackReader(file);
  reader.poll();
  assert.equal(reader.progress, null);
  reader.finish();
  assert.deepEqual(reader.progress, { percent: 40 });
  fs.appendFileSync(file, '\n[b]2\n');
  reader.poll();
  reader.finish();
  assert.deepEqual(reader.values, { a: '1', progress: '40%' });
});

// What happens to the file between polls. A rewrite in place (same inode) is
// only detectable while the file is shorter than what the reader has read, so
// the model makes it shorter and polls at once; replacements change identity
// and need no such care.
type Op =
  | { kind: 'append' | 'rewrite' | 'rename' | 'recreate'; bytes: Uint8Array }
  | { kind: 'poll' | 'remove' };

const enc = new TextEncoder();
const key = fc.constantFrom('a', 'b', 'progress', '', '9', 'k k');
const text = fc.oneof(
  fc.tuple(key, fc.string({ maxLength: 6 })).map(([k, v]) => `[${k}]${v}`),
  fc.constantFrom('# c', '', 'junk'),
);
const lines = fc
  .array(fc.tuple(text, fc.constantFrom('\n', '\r\n', '')), { maxLength: 5 })
  .map((ls) => enc.encode(ls.map(([l, end]) => l + end).join('')));
const bytes = fc.oneof({ weight: 5, arbitrary: lines }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }) });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: bytes.map((b): Op => ({ kind: 'append', bytes: b })) },
  { weight: 5, arbitrary: fc.constant<Op>({ kind: 'poll' }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('rewrite' as const, 'rename' as const, 'recreate' as const), bytes)
      .map(([kind, b]): Op => ({ kind, bytes: b })),
  },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'remove' }) },
);

test('property: after any appends, truncations and replacements the reader holds the current content', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      const file = freshPath();
      const reader = new FeedbackReader(file);
      let polledSize = 0;
      const poll = () => {
        const result = reader.poll();
        assert.equal(result.error, null);
        const exists = fs.existsSync(file);
        assert.equal(result.exists, exists);
        if (!exists) return;
        const content = fs.readFileSync(file);
        polledSize = content.length;
        assert.deepEqual(holds(reader), unfinished(content));
      };
      for (const step of ops) {
        if (changeFile(file, step)) continue;
        if (step.kind === 'rewrite') {
          const size = fs.existsSync(file) ? polledSize : 0;
          fs.writeFileSync(file, size > 0 ? step.bytes.subarray(0, size - 1) : step.bytes);
          poll();
        } else poll();
      }
      const last = reader.finish();
      if (fs.existsSync(file)) {
        assert.equal(last.exists, true);
        assert.deepEqual(holds(reader), parseBuffer(fs.readFileSync(file)));
      } else assert.equal(last.exists, false);
    }),
    { numRuns: 150 },
  );
});

test('a big file is read in slices: each poll stops after a few MiB and says more; all of it parses the same', () => {
  const file = freshPath();
  const line = '[progress]1/2\n[step]a step of the job\n';
  fs.writeFileSync(file, line.repeat(Math.ceil((20 * 1024 * 1024) / line.length)) + '[last]yes\n');
  const reader = new FeedbackReader(file);
  let polls = 1;
  let result = reader.poll();
  assert.equal(result.changed, true);
  while (result.more) {
    result = reader.poll();
    assert.equal(result.changed, false, 'a slice of the same file is no new heartbeat');
    polls++;
  }
  assert.ok(polls >= 16, `read in ${polls} polls`);
  assert.deepEqual(reader.values, { progress: '1/2', step: 'a step of the job', last: 'yes' });
});

test('skipExisting: what the file held before is not read; what is appended is; a replaced file is read whole', () => {
  const file = freshPath();
  fs.writeFileSync(file, '[progress]99\n[old]yes\n');
  const reader = new FeedbackReader(file);
  reader.skipExisting();
  assert.equal(reader.poll().changed, false);
  assert.deepEqual(reader.values, {});
  fs.appendFileSync(file, '[progress]1\n');
  assert.equal(reader.poll().changed, true);
  assert.deepEqual(reader.values, { progress: '1' });
  fs.renameSync(writeTemp('[new]1\n'), file);
  reader.poll();
  assert.deepEqual(reader.values, { new: '1' });
});

function writeTemp(text: string): string {
  const path = freshPath();
  fs.writeFileSync(path, text);
  return path;
}
