/**
 * Each role of the single executable runs with its own Node options and
 * environment (packaging/node-options.json; docs/ARCHITECTURE.md, Node
 * runtime options per role; docs/PACKAGING.md). A single executable takes
 * no Node options on its command line (every argument is logship's), and
 * what Node reads before any JavaScript runs (NODE_OPTIONS, and glibc's
 * MALLOC_* variables) cannot be set from inside. So `logship agent` and
 * `logship collector`, started without them, replace themselves once
 * (`process.execve`: same PID, nothing left behind for systemd to track)
 * with the same command and:
 *
 * - the role's options that NODE_OPTIONS accepts
 *   (`process.allowedNodeEnvironmentFlags`: --max-semi-space-size,
 *   --disable-warning) prepended to NODE_OPTIONS;
 * - the role's environment (glibc's MALLOC_* tuning), where not set already;
 * - the marker ROLE_OPTIONS_MARKER=<role>, which stops a second replacement
 *   and tells the new process to set the role's remaining V8 flags
 *   (the agent's --turbo-filter=-* --maglev-filter=-*, which NODE_OPTIONS refuses)
 *   with `v8.setFlagsFromString` before any of logship's code loads. V8
 *   reads some flags' effects only when the heap is set up, so such a flag
 *   set this way acts partly; the compiler filters are read at each
 *   tier-up decision, so they act fully (and the agent lifts them under
 *   load: agent/optimizing-compilers.ts).
 *
 * An agent whose config decodes its lines (a source with a parser,
 * multiline or transforms: every line becomes a string and objects) takes
 * the role's `node_options_decoding` in place of the same flags: a young
 * generation sized for that garbage (`--max-semi-space-size=8` instead of
 * 2). The config named by `--config` is read and parsed here for that
 * alone; one that cannot be read or parsed gets the base options, and the
 * agent reports it. A reload that adds a parser keeps the options the
 * agent started with (a restart applies them).
 *
 * Other commands (search, validate, version, ...) start once, on Node's
 * defaults. Setting the marker yourself to something that is not a role
 * (`LOGSHIP_ROLE_OPTIONS=off`) runs a role on exactly the NODE_OPTIONS and
 * environment you give it. Options you put in NODE_OPTIONS come after the
 * role's, so yours win; a variable of the role's environment you set is kept.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { allowedInNodeOptions, ROLE_OPTIONS_MARKER, ROLES, roleNodeOptions } from "./role-options.ts";

/**
 * The environment to start `args` (the command line after the executable)
 * with, or null when this process may run it as it is: not a role with
 * options, or the marker is set.
 */
export function roleEnvironment(args: readonly string[], env: Readonly<NodeJS.ProcessEnv>, readConfig: (path: string) => string = (path) => readFileSync(path, "utf8")): Record<string, string> | null {
  const command = args.find((arg) => !arg.startsWith("-"));
  const role = command === undefined ? undefined : ROLES.get(command);
  if (command === undefined || role === undefined || env[ROLE_OPTIONS_MARKER] !== undefined) return null;
  const next: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) next[name] = value;
  for (const [name, value] of Object.entries(role.env)) next[name] ??= value;
  const options = roleNodeOptions(command, role.node_options_decoding !== undefined && configDecodesLines(args, readConfig));
  next["NODE_OPTIONS"] = [...options.filter(allowedInNodeOptions), env["NODE_OPTIONS"] ?? ""].join(" ").trim();
  next[ROLE_OPTIONS_MARKER] = command;
  return next;
}

/**
 * True when the agent config named by `--config` has a source that decodes
 * its lines instead of shipping their bytes (agent/tail/decode.ts: a
 * parser other than none, a multiline rule, or transforms); false when
 * there is no such config or it cannot be read or parsed.
 */
export function configDecodesLines(args: readonly string[], readConfig: (path: string) => string): boolean {
  const path = configArgument(args);
  if (path === undefined) return false;
  let config: unknown;
  try {
    config = parse(readConfig(path));
  } catch {
    // The agent loads the config again and reports what is wrong with it.
    return false;
  }
  const sources = (config as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(sources)) return false;
  return sources.some((source: unknown) => {
    if (typeof source !== "object" || source === null) return false;
    const { parser, multiline, transforms } = source as { parser?: { type?: unknown }; multiline?: unknown; transforms?: unknown };
    return (parser?.type !== undefined && parser.type !== "none") || (multiline !== undefined && multiline !== null) || (Array.isArray(transforms) && transforms.length > 0);
  });
}

/** The value of `-c`/`--config` (`--config F`, `--config=F`, `-c F`). */
function configArgument(args: readonly string[]): string | undefined {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg.startsWith("--config=")) return arg.slice("--config=".length);
    if (arg === "--config" || arg === "-c") return args[index + 1];
  }
  return undefined;
}
