/**
 * A test's cleanups in the order `defer` would run them: the last one
 * registered first, and every one even when an earlier one fails (the
 * failures are reported together). node:test runs `t.after` hooks in the
 * order they were added and stops at the first that throws: a test that
 * registered "remove the directory" before "stop the processes" removed the
 * directory under live processes (ENOTEMPTY under load), never stopped
 * them, and its file then hung on their open pipes.
 */
export type Defer = (cleanup: () => unknown) => void;

/** What cleanups needs of a test context (node:test's TestContext has it). */
export interface AfterHooks {
  after(hook: () => Promise<void>): void;
}

export function cleanups(t: AfterHooks): Defer {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const cleanup of stack.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanups failed`);
  });
  return (cleanup) => stack.push(cleanup);
}
