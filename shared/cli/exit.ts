/**
 * The end of a logship process: once its command returned, nothing it
 * started is needed any more, and the process should end at once with the
 * command's exit code. Node ends it when the event loop is empty; a library
 * may still hold the loop open. @platformatic/kafka 2.12 starts a
 * consumer's heartbeat timer when a group rejoin completes while the
 * consumer is being closed, and that timer re-arms itself for ever: a
 * collector stopped by SIGTERM during a rebalance said "collector stopped"
 * and then lived on until SIGKILL (systemd's stop timeout, or an
 * integration test's). So after a grace the process exits anyway, with a
 * line on standard error naming what still held it.
 */

/** How long a process whose command returned may stay up for handles still open. */
const EXIT_GRACE_MS = 5000;

/**
 * Sets the process's exit code, and exits with it after `graceMs` if the
 * process is still running then. The timer is unref'd: when nothing else
 * holds the event loop, the process ends at once, as before.
 */
export function exitWhenDone(exitCode: number, graceMs: number = EXIT_GRACE_MS): void {
  process.exitCode = exitCode;
  setTimeout(() => {
    process.stderr.write(`logship: the command is done but the process is still held open (${process.getActiveResourcesInfo().join(", ")}); exiting\n`);
    process.exit(exitCode);
  }, graceMs).unref();
}
