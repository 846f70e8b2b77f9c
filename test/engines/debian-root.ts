/**
 * A throwaway Debian 12 root file system (test/engines/debian-root.sh) for
 * tests that install the .deb: a fresh copy per test, so dpkg, adduser and
 * the maintainer scripts run for real without touching this machine.
 *
 * debianRootTarball() runs `debian-root.sh create` (debootstraps and caches
 * the root the first time, ~1 min; a failure throws with the script's
 * output). unpackDebianRoot() extracts a copy into a directory. A command
 * runs inside it with `unshare --mount --pid --kill-child --mount-proc
 * --root=ROOT`: chrooted, with its own /proc in a mount namespace of its own,
 * so the mount ends with the command and nothing is left mounted under the
 * copy; its processes end with it too (the PID namespace's init is killed).
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const DEBIAN_ROOT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "debian-root.sh");

/** debootstrap downloads ~40 MB and configures ~100 packages; bounded in the script too. */
const CREATE_TIMEOUT_MS = 960_000;
/** Extracting the ~155 MB tar takes ~1 s. */
const UNPACK_TIMEOUT_MS = 120_000;
/** A command inside (dpkg -i of a 127 MiB package included). */
const COMMAND_TIMEOUT_MS = 120_000;
/** The environment inside: dpkg needs the sbin directories on PATH. */
const ROOT_ENVIRONMENT = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", LANG: "C" };

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface DebianRoot {
  /** The copy's directory on this machine. */
  path: string;
  /** Path on this machine of a path inside the root ("/etc/logship" → ROOT/etc/logship). */
  hostPath(inside: string): string;
  /** Runs `command args` chrooted into the copy with ROOT_ENVIRONMENT plus `env`. */
  run(command: string, args: readonly string[], env?: Record<string, string>): CommandResult;
  /** Deletes the copy (after checking that nothing is mounted under it). */
  remove(): Promise<void>;
}

/** Path of the cached root tarball, debootstrapped now if missing (needs root and the Debian mirror). */
export function debianRootTarball(): string {
  const result = spawnSync("bash", [DEBIAN_ROOT_SCRIPT, "create"], { encoding: "utf8", timeout: CREATE_TIMEOUT_MS });
  if (result.error) throw new Error(`debian-root.sh create: ${result.error.message}\n${result.stderr ?? ""}`);
  if (result.status !== 0) throw new Error(`test/engines/debian-root.sh create failed (exit ${result.status}):\n${result.stderr.trim()}`);
  const tarball = result.stdout.trim().split("\n").pop();
  if (!tarball) throw new Error(`debian-root.sh create printed no path:\n${result.stderr}`);
  return tarball;
}

/**
 * Extracts the tarball into `directory` (created; must not exist yet) keeping
 * owners, modes and device nodes. Asynchronous, so a caller can build while
 * tar writes.
 */
export async function unpackDebianRoot(tarball: string, directory: string): Promise<DebianRoot> {
  const path = resolve(directory);
  await mkdir(path);
  await promisify(execFile)("tar", ["--numeric-owner", "-xpf", tarball, "-C", path], { timeout: UNPACK_TIMEOUT_MS });
  return {
    path,
    hostPath: (inside) => join(path, inside),
    run: (command, args, env = {}) => runInside(path, command, args, env),
    remove: () => removeRoot(path),
  };
}

function runInside(path: string, command: string, args: readonly string[], env: Record<string, string>): CommandResult {
  const unshare = ["--mount", "--pid", "--kill-child", "--mount-proc", `--root=${path}`, "--wd=/", command, ...args];
  const result = spawnSync("unshare", unshare, { encoding: "utf8", env: { ...ROOT_ENVIRONMENT, ...env }, stdio: ["ignore", "pipe", "pipe"], timeout: COMMAND_TIMEOUT_MS });
  if (result.error) throw new Error(`in ${path}: ${command} ${args.join(" ")}: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function removeRoot(path: string): Promise<void> {
  // The mounts live in the commands' own namespaces; one here would mean rm -rf reaching into /proc or the host.
  const mounts = (await readFile("/proc/self/mounts", "utf8")).split("\n").map((line) => line.split(" ")[1] ?? "");
  const inside = mounts.filter((mount) => mount === path || mount.startsWith(`${path}/`));
  if (inside.length > 0) throw new Error(`not deleting ${path}: mounted under it: ${inside.join(", ")}`);
  await rm(path, { recursive: true, force: true });
}
