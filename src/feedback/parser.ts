// The feedback file grammar as a pure, incremental byte parser. It never
// touches fs (node:buffer's isUtf8 is its only import), so the reader and the tests drive it with whatever chunks they
// have, and any split of the same bytes yields the same state.
import { isUtf8 } from 'node:buffer';
import type { Feedback } from '../core/task.js';

export { parseProgress } from './progress.js';

/** Longest line kept, in bytes, not counting the `\n` or a trailing `\r`. */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const HASH = 0x23;
const OPEN = 0x5b; // [

export interface ParserState {
  /** Insertion-ordered: a re-set key keeps its place, a removed one loses it. */
  values: Map<string, string>;
  ignored: number;
  /** Copies of the bytes of the current unterminated line. */
  pending: Uint8Array[];
  pendingBytes: number;
  /** The current line is already counted as too long; skip to its newline. */
  overlong: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function newParser(): ParserState {
  return { values: new Map(), ignored: 0, pending: [], pendingBytes: 0, overlong: false };
}

/** Consumes a chunk; cost is proportional to its length, earlier bytes are never rescanned. */
export function feed(state: ParserState, chunk: Uint8Array): void {
  let start = 0;
  // The rest of a line begun in an earlier chunk.
  if (state.pendingBytes > 0 || state.overlong) {
    const nl = chunk.indexOf(NEWLINE);
    const end = nl === -1 ? chunk.length : nl;
    if (!state.overlong) appendPending(state, chunk, 0, end);
    if (nl === -1) return;
    endLine(state);
    start = nl + 1;
  }
  // Every whole line at once, then the start of the next.
  const last = chunk.lastIndexOf(NEWLINE);
  if (last >= start) {
    feedLines(state, chunk, start, last);
    start = last + 1;
  }
  if (start < chunk.length) appendPending(state, chunk, start, chunk.length);
}

/**
 * Whole lines, chunk[start, end) (end at a newline). The usual case, text
 * without NUL that is valid UTF-8, is decoded in one step and split as a
 * string; otherwise each line is judged by its bytes.
 */
function feedLines(state: ParserState, chunk: Uint8Array, start: number, end: number): void {
  const region = chunk.subarray(start, end);
  if (region.indexOf(NUL) !== -1 || !isUtf8(region)) {
    for (let at = start; at <= end; ) {
      const nl = chunk.indexOf(NEWLINE, at);
      const stop = nl === -1 || nl > end ? end : nl;
      lineOfBytes(state, chunk.subarray(at, stop));
      at = stop + 1;
    }
    return;
  }
  const text = Buffer.from(region.buffer, region.byteOffset, region.byteLength).toString('utf8');
  for (let at = 0; at <= text.length; ) {
    let nl = text.indexOf('\n', at);
    if (nl === -1) nl = text.length;
    let stop = nl;
    if (stop > at && text.charCodeAt(stop - 1) === CR) stop--;
    // A UTF-16 unit is at most 3 bytes of UTF-8: count bytes only for a line that may be too long.
    if (stop > at && (stop - at) * 3 > MAX_LINE_BYTES && Buffer.byteLength(text.slice(at, stop), 'utf8') > MAX_LINE_BYTES) state.ignored += 1;
    else if (stop > at && text.charCodeAt(at) !== HASH && !applyLineAt(state.values, text, at, stop)) state.ignored += 1;
    at = nl + 1;
  }
}

/** Treats an unterminated last line as a line: at task end or for a whole-file parse. */
export function finish(state: ParserState): void {
  if (state.pendingBytes > 0 || state.overlong) endLine(state);
}

export function valuesOf(state: ParserState): Feedback {
  // fromEntries defines own properties, so a `__proto__` key stays a plain key.
  return Object.fromEntries(state.values);
}

export function parseBuffer(buf: Uint8Array): { values: Feedback; ignored: number } {
  const state = newParser();
  feed(state, buf);
  finish(state);
  return { values: valuesOf(state), ignored: state.ignored };
}

function appendPending(state: ParserState, chunk: Uint8Array, start: number, end: number): void {
  if (end === start) return;
  // One more byte than the limit may be a `\r` that the newline will drop.
  if (state.pendingBytes + (end - start) > MAX_LINE_BYTES + 1) {
    state.pending = [];
    state.pendingBytes = 0;
    state.overlong = true;
    state.ignored += 1;
    return;
  }
  // Copied: the caller may reuse its read buffer, and a view would pin it.
  const copy = new Uint8Array(end - start);
  copy.set(chunk.subarray(start, end));
  state.pending.push(copy);
  state.pendingBytes += copy.length;
}

function endLine(state: ParserState): void {
  if (state.overlong) {
    state.overlong = false;
    return;
  }
  const line = joinPending(state);
  state.pending = [];
  state.pendingBytes = 0;
  lineOfBytes(state, line);
}

/** One line (without its newline), judged from its bytes. */
function lineOfBytes(state: ParserState, line: Uint8Array): void {
  const length = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
  if (length === 0) return;
  const bytes = line.subarray(0, length);
  if (length > MAX_LINE_BYTES || bytes.includes(NUL)) {
    state.ignored += 1;
    return;
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    state.ignored += 1;
    return;
  }
  if (bytes[0] === HASH) return;
  if (!applyLine(state.values, text)) state.ignored += 1;
}

function joinPending(state: ParserState): Uint8Array {
  const [first] = state.pending;
  if (state.pending.length === 1 && first !== undefined) return first;
  const line = new Uint8Array(state.pendingBytes);
  let at = 0;
  for (const part of state.pending) {
    line.set(part, at);
    at += part.length;
  }
  return line;
}

/** Applies one decoded, non-comment, non-empty line; false if it is not `[key]value`. */
function applyLine(values: Map<string, string>, text: string): boolean {
  return applyLineAt(values, text, 0, text.length);
}

/** The same for the line text[start, end), without cutting it out first. */
function applyLineAt(values: Map<string, string>, text: string, start: number, end: number): boolean {
  if (text.charCodeAt(start) !== OPEN) return false;
  const close = text.indexOf(']', start + 1);
  if (close === -1 || close >= end) return false;
  if (close === start + 1) {
    if (close + 1 !== end) return false;
    values.clear();
    return true;
  }
  const key = text.slice(start + 1, close);
  // A key already held was checked when it was set.
  if (!values.has(key) && !isKey(key)) return false;
  if (close + 1 === end) values.delete(key);
  else values.set(key, text.slice(close + 1, end));
  return true;
}

const NOT_A_KEY = /^[0-9]|\s/u;
const isKey = (key: string): boolean => !NOT_A_KEY.test(key);
