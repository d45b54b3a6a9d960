import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_LINE_BYTES,
  feed,
  finish,
  newParser,
  parseBuffer,
  parseProgress,
  valuesOf,
  type ParserState,
} from '../src/feedback/parser.js';

const enc = new TextEncoder();
const parse = (text: string) => parseBuffer(enc.encode(text));

/** The contract's example feedback file (PRODUCT.md, "The feedback file"). */
const CONTRACT_EXAMPLE = readFileSync(new URL('./fixtures/contract-example.txt', import.meta.url), 'utf8');

test('the contract example parses to the documented values, in order', () => {
  const { values, ignored } = parse(CONTRACT_EXAMPLE);
  assert.equal(
    JSON.stringify(values),
    '{"playbook":"myPlaybook","testcase_id":"002","testcase_name":"Setting up topology","progress":"10"}',
  );
  assert.equal(ignored, 0);
});

test('CRLF line ends lose their \\r; a bare \\r line counts as empty', () => {
  assert.deepEqual(parse('[a]1\r\n[b]2\r\n\r\n[c]3\r'), { values: { a: '1', b: '2', c: '3' }, ignored: 0 });
  assert.deepEqual(parse('[a]1\r\r\n'), { values: { a: '1\r' }, ignored: 0 });
});

test('keys that start with a digit or hold whitespace are ignored and counted', () => {
  assert.deepEqual(parse('[1abc]x\n[a b]x\n[a\tb]x\n[ a]x\n[a1]ok\n'), { values: { a1: 'ok' }, ignored: 4 });
});

test('[] removes every key so far; later keys survive', () => {
  assert.deepEqual(parse('[a]1\n[b]2\n[]\n[c]3\n'), { values: { c: '3' }, ignored: 0 });
  assert.deepEqual(parse('[a]1\n[]x\n'), { values: { a: '1' }, ignored: 1 });
});

test('[key] removes the key; re-adding puts it last, re-setting keeps its place', () => {
  const { values } = parse('[a]1\n[b]2\n[c]3\n[a]\n[a]4\n[b]5\n[missing]\n');
  assert.equal(JSON.stringify(values), '{"b":"5","c":"3","a":"4"}');
});

test('comments and empty lines are ignored without being counted', () => {
  assert.deepEqual(parse('# hello\n\n#[a]1\n\n[b]2\n#\n'), { values: { b: '2' }, ignored: 0 });
});

test('malformed lines are counted', () => {
  const { values, ignored } = parse('plain text\n[abc\n ]\n [a]1\nabc]\n[ok]yes\n');
  assert.deepEqual(values, { ok: 'yes' });
  assert.equal(ignored, 5);
});

test('the value is everything after the first ]', () => {
  assert.deepEqual(parse('[a][b]c]d [x]\n').values, { a: '[b]c]d [x]' });
  assert.deepEqual(parse('[[a]v\n').values, { '[a': 'v' });
});

test('a __proto__ key is a plain key', () => {
  const { values } = parse('[__proto__]x\n');
  assert.equal(Object.getPrototypeOf(values), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(values, '__proto__')?.value, 'x');
});

test('empty input parses to nothing', () => {
  assert.deepEqual(parseBuffer(new Uint8Array(0)), { values: {}, ignored: 0 });
});

test('NUL bytes and invalid UTF-8 make a line ignored and counted', () => {
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const buf = bytes(
    '[a]1\n',
    '[b]x', [0], 'y\n',
    '[c]', [0xff, 0xfe], '\n', // never valid in UTF-8
    '[d]', [0xc0, 0x80], '\n', // an overlong encoding of NUL
    '[e]', [0xed, 0xa0, 0x80], '\n', // a lone surrogate
    '[f]', [0xe2, 0x82], '\n', // a truncated sequence
    '#', [0xff], '\n', // bad bytes make even a comment count
    '[g]é\n',
  );
  assert.deepEqual(parseBuffer(buf), { values: { a: '1', g: 'é' }, ignored: 6 });
});

test('line length limit: 64 KiB is kept, one byte more is counted', () => {
  const at = (n: number, end: string) => `[k]${'v'.repeat(n - 3)}${end}`;
  assert.equal(parse(at(MAX_LINE_BYTES, '\n')).values.k?.length, MAX_LINE_BYTES - 3);
  assert.equal(parse(at(MAX_LINE_BYTES, '\r\n')).values.k?.length, MAX_LINE_BYTES - 3);
  assert.deepEqual(parse(at(MAX_LINE_BYTES + 1, '\n')), { values: {}, ignored: 1 });
  assert.deepEqual(parse(at(MAX_LINE_BYTES + 1, '')), { values: {}, ignored: 1 });
});

test('a 10 MB single line is counted once, with bounded memory, and its neighbours parse', () => {
  const huge = Buffer.alloc(10 * 1024 * 1024, 'x');
  const buf = Buffer.concat([Buffer.from('[a]1\n[big]'), huge, Buffer.from('\n[b]2\n')]);
  assert.deepEqual(parseBuffer(buf), { values: { a: '1', b: '2' }, ignored: 1 });
  const state = newParser();
  let most = 0;
  for (let at = 0; at < buf.length; at += 64 * 1024) {
    feed(state, buf.subarray(at, at + 64 * 1024));
    most = Math.max(most, state.pendingBytes);
  }
  finish(state);
  assert.ok(most <= MAX_LINE_BYTES + 1, `pending grew to ${most} bytes`);
  assert.deepEqual(valuesOf(state), { a: '1', b: '2' });
  assert.equal(state.ignored, 1);
});

test('binary noise never throws', () => {
  let seed = 42;
  const buf = new Uint8Array(1 << 20);
  for (let i = 0; i < buf.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    buf[i] = seed >>> 24;
  }
  buf[10] = 0;
  const { ignored } = parseBuffer(buf);
  assert.ok(ignored > 0);
});

test('an unterminated last line waits for finish', () => {
  const state = newParser();
  feed(state, enc.encode('[a]1\n[b]2'));
  assert.deepEqual(valuesOf(state), { a: '1' });
  feed(state, enc.encode('3'));
  finish(state);
  assert.deepEqual(valuesOf(state), { a: '1', b: '23' });
});

test('parseProgress', () => {
  const cases: [string, ReturnType<typeof parseProgress>][] = [
    ['37', { percent: 37 }],
    ['37%', { percent: 37 }],
    ['37.5', { percent: 37.5 }],
    ['37.5%', { percent: 37.5 }],
    [' 12% ', { percent: 12 }],
    ['0', { percent: 0 }],
    ['100%', { percent: 100 }],
    ['3/8', { done: 3, total: 8 }],
    ['8/8', { done: 8, total: 8 }],
    ['0/8', { done: 0, total: 8 }],
    ['101', null],
    ['9/8', null],
    ['3/0', null],
    ['-5', null],
    ['3.5/8', null],
    ['37%%', null],
    ['.5', null],
    ['abc', null],
    ['', null],
    ['3 / 8', null],
  ];
  for (const [input, expected] of cases) assert.deepEqual(parseProgress(input), expected, input);
});

// Mostly realistic feedback lines, with enough noise, odd keys, bad bytes and
// lines around the 64 KiB limit to reach every branch of the grammar.
const key = fc.oneof(
  fc.constantFrom('progress', 'a', 'testcase_id', '', '1st', 'a b', 'x]', '[y', '__proto__'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 6 }),
);
const value = fc.oneof(fc.constantFrom('', '37%', '3/8', '[x]y]'), fc.string({ unit: 'grapheme', maxLength: 12 }));
const line = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(key, value).map(([k, v]) => enc.encode(`[${k}]${v}`)) },
  { weight: 2, arbitrary: fc.constantFrom('', '#', '# note', '[]', 'plain', '\r').map((t) => enc.encode(t)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom([0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0])
      .map((bad) => Buffer.concat([Buffer.from('[k]'), Buffer.from(bad)])),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: MAX_LINE_BYTES - 2, max: MAX_LINE_BYTES + 3 }), fc.boolean())
      .map(([n, cr]) => Buffer.from(`[k]${'v'.repeat(n - 3)}${cr ? '\r' : ''}`)),
  },
);
const ending = fc.constantFrom('\n', '\n', '\n', '\r\n', '\r', '');
function feedbackBytes(): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fc.tuple(line, ending), { maxLength: 16 })
    .map((lines) => Buffer.concat(lines.flatMap(([l, e]) => [l, Buffer.from(e)])));
}

function splitBytes(buf: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = cuts.map((c) => c % (buf.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const to of [...points, buf.length]) {
    chunks.push(buf.subarray(from, to));
    from = to;
  }
  return chunks;
}

/** A line-at-a-time oracle, written independently of the streaming code. */
function oracle(buf: Uint8Array): { values: Record<string, string>; ignored: number } {
  const values = new Map<string, string>();
  let ignored = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const lines = Buffer.from(buf).toString('latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    const line = Buffer.from(raw.endsWith('\r') ? raw.slice(0, -1) : raw, 'latin1');
    if (line.length === 0) continue;
    let text: string;
    try {
      if (line.length > MAX_LINE_BYTES || line.includes(0)) throw new Error('bad');
      text = decoder.decode(line);
    } catch {
      ignored++;
      continue;
    }
    if (text.startsWith('#')) continue;
    const m = /^\[([^\]]*)\](.*)$/su.exec(text);
    const key = m?.[1];
    const value = m?.[2] ?? '';
    if (key === undefined || (key === '' && value !== '') || /^[0-9]/.test(key) || /\s/u.test(key)) ignored++;
    else if (key === '') values.clear();
    else if (value === '') values.delete(key);
    else values.set(key, value);
  }
  return { values: Object.fromEntries(values), ignored };
}

function snapshot(state: ParserState) {
  return { values: valuesOf(state), ignored: state.ignored };
}

test('property: any split of the bytes gives the same state as one feed', () => {
  fc.assert(
    fc.property(feedbackBytes(), fc.array(fc.nat(), { maxLength: 12 }), (buf, cuts) => {
      const whole = newParser();
      feed(whole, buf);
      const pieces = newParser();
      for (const chunk of splitBytes(buf, cuts)) feed(pieces, chunk);
      assert.deepEqual(snapshot(pieces), snapshot(whole));
      finish(whole);
      finish(pieces);
      assert.deepEqual(snapshot(pieces), snapshot(whole));
      assert.deepEqual(snapshot(whole), parseBuffer(buf));
    }),
    { numRuns: 200 },
  );
});

test('property: the parser agrees with a line-at-a-time oracle', () => {
  fc.assert(
    fc.property(feedbackBytes(), (buf) => {
      assert.deepEqual(parseBuffer(buf), oracle(buf));
    }),
    { numRuns: 300 },
  );
});
