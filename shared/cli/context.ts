/**
 * What a command may touch, passed explicitly so commands run the same in
 * the real binary and in tests: output streams, the environment, and the
 * exit code the process ends with.
 */
export interface CliContext {
  /** Writes to standard output; the text carries its own newlines. */
  writeOut: (text: string) => void;
  /** Writes to standard error; the text carries its own newlines. */
  writeErr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Standard output is a terminal (colour is used only there); absent: it is not. */
  stdoutIsTerminal?: boolean;
  /** Set by a command that fails without throwing (e.g. validate found issues). */
  exitCode: number;
}

/** Process exit codes (docs: DESIGN.md, "Command line"); `logship search` exits 1 when nothing matched, like grep. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME_FAILURE = 1;
export const EXIT_USAGE_OR_CONFIG = 2;

export function processContext(): CliContext {
  return {
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
    env: process.env,
    stdoutIsTerminal: process.stdout.isTTY === true,
    exitCode: EXIT_OK,
  };
}
