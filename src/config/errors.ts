/**
 * Bad user input. `option` is the flag as the user typed it (`--link`); the message names the
 * option, the accepted form and what was given, so the CLI prints it as it is, on one line.
 */
export class OptionError extends Error {
  override readonly name = 'OptionError';

  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
  }
}
