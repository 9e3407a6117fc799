import { isUserError, UserError } from '../../shared/userError';

/**
 * Bad or missing data: a UserError with code `badData`. Its message is written for the user
 * (what is wrong, in which file, what to do) and is printed as is, without a stack trace.
 */
export class DataError extends UserError {
  /** The file or folder at fault, when there is one. */
  readonly file?: string;

  constructor(message: string, file?: string) {
    super('badData', message, file === undefined ? {} : { file });
    this.name = 'DataError';
    this.file = file;
  }
}

/** True for a data error, also across module copies (bundles) where `instanceof` may fail. */
export function isDataError(err: unknown): err is DataError {
  return isUserError(err) && err.code === 'badData';
}
