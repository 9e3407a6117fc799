/**
 * The one error type for bad or missing data. Its message is written for the user (what is
 * wrong, in which file, what to do) and is meant to be printed as is, without a stack trace.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  /** The file or folder at fault, when there is one. */
  readonly file?: string;

  constructor(message: string, file?: string) {
    super(message);
    this.file = file;
  }
}

/** True for a DataError, also across module copies (bundles) where `instanceof` may fail. */
export function isDataError(err: unknown): err is DataError {
  return err instanceof DataError || (err instanceof Error && err.name === 'DataError');
}
