// What every command gets from the entry: where the store is and how to open it.
import { resolveStorePath } from '../store/location.js';
import type { Store } from '../store/store.js';
import { fdOutput, type Output } from './output.js';

export interface Context {
  storePath: string;
  openStore(): Promise<Store>;
  now(): number;
  stdout: Output;
  stderr: Output;
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
    stdout: fdOutput(1),
    stderr: fdOutput(2),
    env: process.env,
  };
}
