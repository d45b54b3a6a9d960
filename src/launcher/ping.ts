// Pings in the healthchecks.io protocol, which cron monitors speak: URL/start
// when a run starts, URL/EXITCODE when it ends (0 is success), both with the
// run's id (rid) so the monitor pairs them; the end's body the last output.
// A ping never changes the task: one that fails, after a few tries within
// seconds, becomes an error message.
import { readFileSync } from 'node:fs';
import { redactUrl } from '../core/redact.js';

const TRIES = 3;
// Three tries, each at most 2.5 s, with pauses of 0.3 and 1 s: under 10 s in all.
const TRY_TIMEOUT_MS = 2500;
const PAUSE_MS = [300, 1000];

/**
 * A run's id: a random UUID, as healthchecks wants, from the kernel (a read of
 * a few bytes; node's Web Crypto costs 5-8 ms to load, on the launch's path).
 */
export function newRunId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/uuid', 'latin1').trim();
  } catch {
    return globalThis.crypto.randomUUID();
  }
}

/**
 * One run's pings: `send('start')`, then `send(EXITCODE, body)`, then `close()`.
 * Both go over one kept-alive connection, so the end ping does not pay again
 * for a TCP (and TLS) handshake the start ping made.
 */
export class Pinger {
  readonly rid = newRunId();
  private agent: import('node:http').Agent | null = null;

  constructor(private readonly url: string) {}

  /** Sends one ping: `path` is 'start' or the exit code; resolves to null, or why it failed (the URL's password not shown). */
  async send(path: string, body: Buffer | null = null): Promise<string | null> {
    let target: URL;
    try {
      target = new URL(`${this.url.replace(/\/+$/, '')}/${path}`);
      target.searchParams.set('rid', this.rid);
    } catch {
      return `not a URL: ${redactUrl(this.url)}`;
    }
    let why = '';
    for (let i = 0; i < TRIES; i++) {
      why = await this.once(target, body);
      if (why === '') return null;
      if (i < TRIES - 1) await new Promise((r) => setTimeout(r, PAUSE_MS[i]));
    }
    return `${path} to ${redactUrl(this.url)}: ${why} (${TRIES} tries)`;
  }

  /** Lets the kept connection go, so that nothing holds the launcher's loop. */
  close(): void {
    this.agent?.destroy();
    this.agent = null;
  }

  private async once(target: URL, body: Buffer | null): Promise<string> {
    const { request, Agent } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
    this.agent ??= new Agent({ keepAlive: true, maxSockets: 1 });
    return new Promise((resolve) => {
      const headers = body ? { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length } : {};
      const req = request(target, { method: body ? 'POST' : 'GET', headers, agent: this.agent! }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode !== undefined && res.statusCode < 300 ? '' : `HTTP ${res.statusCode}`));
        res.on('error', (e) => resolve(e.message));
        res.on('close', () => resolve(res.complete ? '' : 'the answer was cut off'));
      });
      // A hard deadline for the whole try: a server that trickles bytes never resets it.
      const deadline = setTimeout(() => req.destroy(new Error(`no answer in ${TRY_TIMEOUT_MS / 1000}s`)), TRY_TIMEOUT_MS);
      req.on('close', () => clearTimeout(deadline));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end(body ?? undefined);
    });
  }
}
