/**
 * Each role's Node options as packaging/node-options.json lists them, and
 * what a running process needs of them: the flags it sets itself (late
 * flags, and the agent's flags under load); role-start.ts restarts a role
 * with them.
 */
import roles from "./node-options.json" with { type: "json" };

/** Present in the environment of a role that already runs with its options (its name), or whose operator opted out. */
export const ROLE_OPTIONS_MARKER = "LOGSHIP_ROLE_OPTIONS";

export interface RoleStart {
  node_options: readonly string[];
  /** In place of the same flags of node_options when the role's config decodes lines (the agent). */
  node_options_decoding?: readonly string[];
  /** V8 flags the process sets itself once it has load, each replacing the node_options flag of the same name (the agent: agent/optimizing-compilers.ts). */
  v8_flags_under_load?: readonly string[];
  env: Readonly<Record<string, string>>;
}

export const ROLES: ReadonlyMap<string, RoleStart> = new Map([
  ["agent", roles.agent],
  ["collector", roles.collector],
]);

/** A role as node-options.json lists it. */
export function roleStart(command: string): RoleStart {
  const role = ROLES.get(command);
  if (role === undefined) throw new Error(`assertion failed: ${command} is a role`);
  return role;
}

/** A role's Node options: its node_options, with node_options_decoding in place of the same flags when its config decodes lines. */
export function roleNodeOptions(command: string, decodesLines: boolean): string[] {
  const role = roleStart(command);
  const decoding = decodesLines ? (role.node_options_decoding ?? []) : [];
  const replaced = new Set(decoding.map(flagName));
  return [...role.node_options.filter((option) => !replaced.has(flagName(option))), ...decoding];
}

function flagName(option: string): string {
  return option.split("=")[0] as string;
}

/** The role's options NODE_OPTIONS does not accept, for `v8.setFlagsFromString` in the process the marker names (none for another marker or none). */
export function roleLateFlags(env: Readonly<NodeJS.ProcessEnv>): string[] {
  const marker = env[ROLE_OPTIONS_MARKER];
  const role = marker === undefined ? undefined : ROLES.get(marker);
  return role === undefined ? [] : role.node_options.filter((option) => !allowedInNodeOptions(option));
}

/**
 * The role's `v8_flags_under_load` when this process started with every
 * option of the role that they replace (the same flag names): on its command line
 * (`execArgv`: the benchmarks and tests start the bundle so) or as late
 * flags of the role (the single executable). None when the process runs as
 * Node started it (from the sources, or LOGSHIP_ROLE_OPTIONS=off).
 */
export function roleFlagsUnderLoad(command: string, execArgv: readonly string[], env: Readonly<NodeJS.ProcessEnv>): string[] {
  const role = ROLES.get(command);
  const deferred = role === undefined ? [] : roleDeferredOptions(role);
  const started = new Set([...execArgv, ...roleLateFlags(env)]);
  return deferred.length > 0 && deferred.every((option) => started.has(option)) ? [...(role?.v8_flags_under_load ?? [])] : [];
}

/** The role's node_options that its `v8_flags_under_load` replace once the process has load (the same flag names). */
export function roleDeferredOptions(role: RoleStart): string[] {
  const underLoad = new Set((role.v8_flags_under_load ?? []).map(flagName));
  return role.node_options.filter((option) => underLoad.has(flagName(option)));
}

export function allowedInNodeOptions(option: string): boolean {
  return process.allowedNodeEnvironmentFlags.has(flagName(option));
}
