// Typed errors with stable codes. The CLI maps `exitCode` to the documented exit status
// (SPEC "Exit codes") and prints `lwdisk: <what> : <why>`.

export type ExitCode = 0 | 1 | 2 | 3;

export type ErrorCode =
  | 'ELWD_IO' // a read, write, open or fsync failed (exit 1)
  | 'ELWD_NOT_FOUND' // a path does not exist (exit 1)
  | 'ELWD_NOT_A_DEVICE' // a path is a directory, FIFO, character device, ... (exit 1)
  | 'ELWD_READBACK' // a write did not read back identically (exit 1)
  | 'ELWD_TOOL' // a system tool failed or is missing (exit 1)
  | 'ELWD_TIMEOUT' // waiting for the kernel (partition nodes) took too long (exit 1)
  | 'ELWD_CHECK' // inspect --check found problems (exit 1)
  | 'ELWD_USAGE' // bad flag or value (exit 2)
  | 'ELWD_IN_USE' // mounted, active swap, held, EBUSY (exit 3)
  | 'ELWD_NOT_EMPTY' // holds a table or a filesystem and --force was not given (exit 3)
  | 'ELWD_NO_MAGIC' // no magic header and --force was not given (exit 3)
  | 'ELWD_TOO_SMALL' // not enough room for the layout (exit 3)
  | 'ELWD_NOT_CONFIRMED' // no TTY and no --yes, or the user said no (exit 3)
  | 'ELWD_NOT_WHOLE_DISK' // a partition where a whole disk is needed (exit 3)
  | 'ELWD_CHANGED' // the device changed between showing and writing (exit 3)
  | 'ELWD_LOCKED' // another lwdisk holds the device lock (exit 3)
  | 'ELWD_READ_ONLY'; // the device or file cannot be written (exit 3)

const EXIT_BY_CODE: Record<ErrorCode, ExitCode> = {
  ELWD_IO: 1,
  ELWD_NOT_FOUND: 1,
  ELWD_NOT_A_DEVICE: 1,
  ELWD_READBACK: 1,
  ELWD_TOOL: 1,
  ELWD_TIMEOUT: 1,
  ELWD_CHECK: 1,
  ELWD_USAGE: 2,
  ELWD_IN_USE: 3,
  ELWD_NOT_EMPTY: 3,
  ELWD_NO_MAGIC: 3,
  ELWD_TOO_SMALL: 3,
  ELWD_NOT_CONFIRMED: 3,
  ELWD_NOT_WHOLE_DISK: 3,
  ELWD_CHANGED: 3,
  ELWD_LOCKED: 3,
  ELWD_READ_ONLY: 3,
};

export class LwdiskError extends Error {
  readonly code: ErrorCode;
  /** What the error is about: a path, a tool, a flag. */
  readonly what: string;
  /** Why, in a few words. */
  readonly why: string;

  constructor(code: ErrorCode, what: string, why: string, options?: { cause?: unknown }) {
    super(`${what} : ${why}`, options);
    this.name = 'LwdiskError';
    this.code = code;
    this.what = what;
    this.why = why;
  }

  get exitCode(): ExitCode {
    return EXIT_BY_CODE[this.code];
  }
}

export const usageError = (what: string, why: string): LwdiskError => new LwdiskError('ELWD_USAGE', what, why);
export const refused = (code: ErrorCode, what: string, why: string): LwdiskError => new LwdiskError(code, what, why);

/**
 * A typed error, recognised by shape rather than class: the bundle loads each command as its own
 * chunk, so an error thrown there is an instance of that chunk's copy of the class.
 */
export function isLwdiskError(err: unknown): err is LwdiskError {
  const e = err as Partial<LwdiskError> | null;
  return err instanceof Error && typeof e?.code === 'string' && e.code in EXIT_BY_CODE && typeof e.what === 'string' && typeof e.why === 'string';
}

/** Exit status for any thrown value: typed errors keep theirs, anything else is a failure. */
export function exitCodeOf(err: unknown): ExitCode {
  return isLwdiskError(err) ? EXIT_BY_CODE[err.code] : 1;
}

/** A one-line `<what> : <why>` for any thrown value, never a stack trace. */
export function describeError(err: unknown): string {
  if (isLwdiskError(err)) return `${err.what} : ${err.why}`;
  if (err instanceof Error) {
    const sys = err as NodeJS.ErrnoException;
    if (sys.code && sys.path) return `${sys.path} : ${sys.code} ${sys.syscall ?? ''}`.trim();
    return `internal error : ${err.message.split('\n')[0]}`;
  }
  return `internal error : ${String(err)}`;
}

/** Translate a Node system error on `path` into a typed error. */
export function fromSystemError(err: unknown, path: string, doing: string): LwdiskError {
  if (err instanceof LwdiskError) return err;
  const sys = err as NodeJS.ErrnoException;
  switch (sys?.code) {
    case 'ENOENT':
      return new LwdiskError('ELWD_NOT_FOUND', path, 'no such file or device', { cause: err });
    case 'EISDIR':
      return new LwdiskError('ELWD_NOT_A_DEVICE', path, 'is a directory', { cause: err });
    case 'EBUSY':
      return new LwdiskError('ELWD_IN_USE', path, 'device is busy (EBUSY on exclusive open)', { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new LwdiskError('ELWD_IO', path, `permission denied while ${doing}`, { cause: err });
    case 'EROFS':
      return new LwdiskError('ELWD_READ_ONLY', path, 'read-only', { cause: err });
    default:
      return new LwdiskError('ELWD_IO', path, `${doing} failed: ${sys?.code ?? (err as Error)?.message ?? String(err)}`, {
        cause: err,
      });
  }
}
