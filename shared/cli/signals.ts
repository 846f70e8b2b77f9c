/**
 * Process signals as explicit subscriptions, for the code that runs under a
 * command (agent/run.ts takes one for SIGHUP reloads) instead of listeners
 * it installs on `process` itself.
 */

/** Subscribe to `signal`; the returned function stops listening. While subscribed, the signal no longer ends the process. */
export function onSignal(signal: NodeJS.Signals): (handler: () => void) => () => void {
  return (handler) => {
    process.on(signal, handler);
    return () => process.off(signal, handler);
  };
}
