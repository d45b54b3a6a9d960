// One error class carries its exit code; the CLI entry is the only place that
// turns an error into a line on stderr and an exit status.

export const ExitCode = {
  Ok: 0,
  Refused: 1,
  Usage: 2,
  Store: 3,
  NoSuchTask: 4,
  // `tw launch` refused for now (sysexits' EX_TEMPFAIL): a --unique conflict, a full queue.
  TryLater: 75,
  // `tw launch` only, as timeout(1) does.
  LaunchFailed: 125,
  NotExecutable: 126,
  NotFound: 127,
  TimedOut: 124,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class TwError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Refused,
    /** `tw launch` exits with this code too, rather than 125 (a launch's own failure). */
    readonly alsoForLaunch = exitCode === ExitCode.TryLater,
  ) {
    super(message);
    this.name = 'TwError';
  }
}

export const usageError = (message: string): TwError => new TwError(message, ExitCode.Usage);
export const storeError = (message: string): TwError => new TwError(message, ExitCode.Store);
export const noSuchTask = (id: number): TwError => new TwError(`no task ${id}`, ExitCode.NoSuchTask);

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENXIO: 'no reader or device there',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
};

/** An fs error as words for a person (`no such file`), not an errno (`ENOENT`). */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string') return ERRNO_WORDS[code] ?? code;
  return e instanceof Error ? e.message : String(e);
}
