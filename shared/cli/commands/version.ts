import { execFileSync } from "node:child_process";
import { Command } from "commander";
import packageJson from "../../../package.json" with { type: "json" };
import type { CliContext } from "../context.ts";

export const LOGSHIP_VERSION: string = packageJson.version;

/** Set by the build of the single executable (packaging/build-sea.ts, esbuild `define`): the git commit it was built from. Undefined elsewhere. */
declare const LOGSHIP_BUILD_COMMIT: string | undefined;

/** `logship version`: prints `logship <version> (commit <commit>, node <version>)`. */
export function versionCommand(context: CliContext): Command {
  return new Command("version").description("print the version, the git commit it was built from and the Node version it runs on").action(() => {
    context.writeOut(`logship ${LOGSHIP_VERSION} (commit ${buildCommit()}, node ${process.version})\n`);
  });
}

/** The commit embedded at build time; from the sources, the checkout's HEAD; "unknown" when neither is known (a bundle outside a checkout, no git). */
export function buildCommit(): string {
  if (typeof LOGSHIP_BUILD_COMMIT === "string") return LOGSHIP_BUILD_COMMIT;
  return gitHead(import.meta.dirname) ?? "unknown";
}

/** `git rev-parse --short HEAD` in `directory`, or undefined when that is not a checkout or git is not installed. */
export function gitHead(directory: string): string | undefined {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: directory, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5_000 }).trim();
    return head === "" ? undefined : head;
  } catch {
    // Not a checkout, or no git on this host: the caller says "unknown".
    return undefined;
  }
}
