// One error class carries its exit code; the CLI entry is the only place that
// turns an error into a line on stderr and an exit status.

export const ExitCode = {
  Ok: 0,
  Refused: 1,
  Usage: 2,
  Store: 3,
  NoSuchTask: 4,
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
  ) {
    super(message);
    this.name = 'TwError';
  }
}

export const usageError = (message: string): TwError => new TwError(message, ExitCode.Usage);
export const storeError = (message: string): TwError => new TwError(message, ExitCode.Store);
export const noSuchTask = (id: number): TwError => new TwError(`no task ${id}`, ExitCode.NoSuchTask);
