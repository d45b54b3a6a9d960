// Parsing of command-line values shared by several commands.
import { usageError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { isState, STATES, type State } from '../core/task.js';

export function parseId(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw usageError(`bad task id '${text}': ids are positive integers`);
  }
  return Number(text);
}

export function parseInfo(pairs: readonly string[] = []): Record<string, string> {
  const info: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usageError(`bad --info '${pair}': use key=value`);
    info[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return info;
}

export function parseStates(values: readonly string[] = []): State[] {
  return values.map((s) => {
    if (!isState(s)) throw usageError(`bad state '${s}': use one of ${STATES.join(', ')}`);
    return s;
  });
}

export function parseCount(text: string, what: string, least = 0): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw usageError(`bad ${what} '${text}': use a whole number`);
  if (Number(text) < least) throw usageError(`bad ${what} '${text}': at least ${least}`);
  return Number(text);
}

/** `41,42` or `41 42`: task ids, each once. */
export function parseIds(text: string, what: string): number[] {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.length) throw usageError(`bad ${what} '${text}': give task ids, as 41,42`);
  return [...new Set(parts.map(parseId))];
}

/** A ping URL must be http(s); its password is never shown, not even in the refusal. */
export function checkPingUrl(text: string, what: string): string {
  if (!/^https?:\/\/\S+$/.test(text)) throw usageError(`bad ${what} '${redactUrl(text)}': use an http:// or https:// URL`);
  return text;
}
