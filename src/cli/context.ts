// What every command gets from the entry: where the store is and how to open it.
import { resolveStorePath } from '../store/location.js';
import type { Store } from '../store/store.js';
import { visible } from './escape.js';
import { fdOutput, type Output } from './output.js';

export interface Context {
  storePath: string;
  openStore(): Promise<Store>;
  now(): number;
  stdout: Output;
  stderr: Output;
  /** One line `tw: MESSAGE` on stderr. */
  warn(message: string): void;
  env: NodeJS.ProcessEnv;
}

export function makeContext(dbFlag: string | undefined): Context {
  const storePath = resolveStorePath(dbFlag, process.env);
  let store: Store | undefined;
  const stderr = fdOutput(2);
  return {
    storePath,
    async openStore() {
      if (!store) {
        const { openStore } = await import('../store/open.js');
        store = openStore(storePath);
      }
      return store;
    },
    now: () => Date.now(),
    stdout: fdOutput(1),
    stderr,
    warn: (message) => stderr.write(`tw: ${visible(message)}\n`),
    env: process.env,
  };
}

/** `warn`, but each message only the first time. */
export function once(warn: (message: string) => void): (message: string) => void {
  const said = new Set<string>();
  return (message) => {
    if (!said.has(message)) warn(message);
    said.add(message);
  };
}
