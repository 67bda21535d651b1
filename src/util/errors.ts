/**
 * Input the user gave that cannot be used: a command line says it as a usage error, on one line,
 * and exits with 2. Its kinds: an option (OptionError), a suite or host file (SuiteError), a
 * strategy file (StrategyError), a receiver's setting (ReceiverError).
 */
export class InputError extends Error {}

/**
 * Bad user input. `option` is the flag as the user typed it (`--link`); the message names the
 * option, the accepted form and what was given, so the CLI prints it as it is, on one line.
 */
export class OptionError extends InputError {
  override readonly name = 'OptionError';

  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A failure that ends a migration as `failed` with this message, the guest left running on the
 * source (a channel that broke, a policy that gave up, a strategy of the user's that misbehaved, a
 * timeout): the driver turns it into the result's reason. Anything else is a bug, and is thrown.
 */
export class RunFailure extends Error {}
