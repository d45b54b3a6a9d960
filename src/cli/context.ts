// What every command gets from the entry: where the store is and how to open it.
import { resolveStorePath } from '../store/location.js';
import type { Store } from '../store/store.js';

export interface Context {
  storePath: string;
  openStore(): Promise<Store>;
  now(): number;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export function makeContext(dbFlag: string | undefined): Context {
  const storePath = resolveStorePath(dbFlag, process.env);
  let store: Store | undefined;
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
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  };
}
