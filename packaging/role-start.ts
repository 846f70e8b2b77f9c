/**
 * Each role of the single executable runs with its own Node options and
 * environment (packaging/node-options.json; docs/ARCHITECTURE.md, Node
 * runtime options per role; docs/PACKAGING.md). A single executable takes
 * no Node options on its command line (every argument is logship's), and
 * what Node reads before any JavaScript runs (NODE_OPTIONS, and glibc's
 * MALLOC_ARENA_MAX) cannot be set from inside. So `logship agent` and
 * `logship collector`, started without them, replace themselves once
 * (`process.execve`: same PID, nothing left behind for systemd to track)
 * with the same command and:
 *
 * - the role's options that NODE_OPTIONS accepts
 *   (`process.allowedNodeEnvironmentFlags`: --max-semi-space-size,
 *   --disable-warning) prepended to NODE_OPTIONS;
 * - the role's environment (MALLOC_ARENA_MAX), where not set already;
 * - the marker ROLE_OPTIONS_MARKER=<role>, which stops a second replacement
 *   and tells the new process to set the role's remaining V8 flags
 *   (--optimize-for-size, which NODE_OPTIONS refuses) with
 *   `v8.setFlagsFromString` before any of logship's code loads. V8 reads
 *   some of such a flag's effects only when the heap is set up, so a flag
 *   set this way acts partly.
 *
 * Other commands (search, validate, version, ...) start once, on Node's
 * defaults. Setting the marker yourself to something that is not a role
 * (`LOGSHIP_ROLE_OPTIONS=off`) runs a role on exactly the NODE_OPTIONS and
 * environment you give it. Options you put in NODE_OPTIONS come after the
 * role's, so yours win; a variable of the role's environment you set is kept.
 */
import roles from "./node-options.json" with { type: "json" };

/** Present in the environment of a role that already runs with its options (its name), or whose operator opted out. */
export const ROLE_OPTIONS_MARKER = "LOGSHIP_ROLE_OPTIONS";

interface RoleStart {
  node_options: readonly string[];
  env: Readonly<Record<string, string>>;
}

const ROLES: ReadonlyMap<string, RoleStart> = new Map([
  ["agent", roles.agent],
  ["collector", roles.collector],
]);

/**
 * The environment to start `args` (the command line after the executable)
 * with, or null when this process may run it as it is: not a role with
 * options, or the marker is set.
 */
export function roleEnvironment(args: readonly string[], env: Readonly<NodeJS.ProcessEnv>): Record<string, string> | null {
  const command = args.find((arg) => !arg.startsWith("-"));
  const role = command === undefined ? undefined : ROLES.get(command);
  if (command === undefined || role === undefined || env[ROLE_OPTIONS_MARKER] !== undefined) return null;
  const next: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) next[name] = value;
  for (const [name, value] of Object.entries(role.env)) next[name] ??= value;
  next["NODE_OPTIONS"] = [...role.node_options.filter(allowedInNodeOptions), env["NODE_OPTIONS"] ?? ""].join(" ").trim();
  next[ROLE_OPTIONS_MARKER] = command;
  return next;
}

/** The role's options NODE_OPTIONS does not accept, for `v8.setFlagsFromString` in the process the marker names (none for another marker or none). */
export function roleLateFlags(env: Readonly<NodeJS.ProcessEnv>): string[] {
  const marker = env[ROLE_OPTIONS_MARKER];
  const role = marker === undefined ? undefined : ROLES.get(marker);
  return role === undefined ? [] : role.node_options.filter((option) => !allowedInNodeOptions(option));
}

function allowedInNodeOptions(option: string): boolean {
  return process.allowedNodeEnvironmentFlags.has(option.split("=")[0] as string);
}
