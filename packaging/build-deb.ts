/**
 * `npm run package:deb`: the Debian package dist/logship_<version>_amd64.deb
 * (docs/PACKAGING.md, The Debian package), built with `dpkg-deb --build
 * --root-owner-group` from a staging tree:
 *
 *   /usr/bin/logship                             the single executable (build-sea.ts)
 *   /etc/logship/agent.yaml, collector.yaml      conffiles: example configs (packaging/deb/)
 *   /etc/default/logship                         conffile, 0600: the tokens, EnvironmentFile= of both units
 *   /lib/systemd/system/logship-{agent,collector}.service
 *   /usr/share/man/man1/logship.1.gz             made from the executable's --help of every command
 *   /usr/share/doc/logship/copyright
 *   DEBIAN/control, conffiles, postinst, prerm, postrm
 *
 * The executable is dist/logship-linux-x64 (or --binary), rebuilt first with
 * the same function as `npm run package` when it is missing or stale: older
 * than a source file, or built from another commit.
 *
 *   npm run package:deb [-- --out DIR] [--version V] [--binary FILE] [--compression xz|gzip|zstd|none]
 *
 * The Debian version is package.json's unless --version or the environment
 * variable LOGSHIP_DEB_VERSION gives one (an upgrade test builds two).
 */
import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { gitHead } from "../shared/cli/commands/version.ts";
import { BINARY_NAME, buildSea } from "./build-sea.ts";
import { manPage } from "./man-page.ts";

const ROOT = join(import.meta.dirname, "..");
const DEB_FILES = join(import.meta.dirname, "deb");
export const DEB_COMPRESSIONS = ["xz", "gzip", "zstd", "none"] as const;
export type DebCompression = (typeof DEB_COMPRESSIONS)[number];
/** Debian Policy 5.6.12: upstream version (digits first) and an optional revision. */
const DEBIAN_VERSION_PATTERN = /^[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$/;
/**
 * The executable links glibc >= 2.28 (Node 24's floor), libstdc++ with
 * GLIBCXX_3.4.21 (GCC 5) and libgcc_s; adduser for postinst; procps for
 * /bin/kill in the agent unit's ExecReload (not in a minimal Debian: the
 * throwaway-root test found `systemd-analyze verify` failing without it).
 */
const DEPENDS = "adduser, procps, libc6 (>= 2.28), libstdc++6 (>= 5), libgcc-s1 | libgcc1";
const MAINTAINER = process.env["LOGSHIP_DEB_MAINTAINER"] ?? "logship maintainers <logship@localhost>";
/** Directories whose sources go into the executable: a newer file there makes dist/logship-linux-x64 stale. */
const SOURCE_DIRECTORIES = ["agent", "collector", "shared", "bin", "packaging"];
/** In packaging/ but not in the executable. */
const NOT_IN_BINARY = new Set(["build-deb.ts", "man-page.ts"]);

export interface DebOptions {
  outDirectory: string;
  /** Default: LOGSHIP_DEB_VERSION, else package.json's version. */
  version?: string | undefined;
  /** An executable to package as it is; default outDirectory/logship-linux-x64, built when missing or stale. */
  binary?: string | undefined;
  /** dpkg-deb's compressor for data.tar; default xz (29 MiB, ~30 s for the 127 MiB executable); the tests use none. */
  compression?: DebCompression;
}

export interface BuiltDeb {
  path: string;
  version: string;
  bytes: number;
}

/** The staging tree under outDirectory/deb/, then `dpkg-deb --build` into outDirectory/logship_<version>_amd64.deb. */
export async function buildDeb(options: DebOptions): Promise<BuiltDeb> {
  const version = options.version ?? process.env["LOGSHIP_DEB_VERSION"] ?? (await packageVersion());
  if (!DEBIAN_VERSION_PATTERN.test(version)) throw new Error(`${JSON.stringify(version)} is not a Debian version (digits first, then letters, digits, . + ~, an optional -revision)`);
  const binary = options.binary ?? (await freshBinary(options.outDirectory));
  const stage = join(options.outDirectory, "deb", "root");
  await rm(join(options.outDirectory, "deb"), { recursive: true, force: true });

  await place(binary, stage, "usr/bin/logship", 0o755);
  const conffiles = ["/etc/logship/agent.yaml", "/etc/logship/collector.yaml", "/etc/default/logship"];
  await place(join(DEB_FILES, "agent.yaml"), stage, "etc/logship/agent.yaml", 0o644);
  await place(join(DEB_FILES, "collector.yaml"), stage, "etc/logship/collector.yaml", 0o644);
  await place(join(DEB_FILES, "default"), stage, "etc/default/logship", 0o600);
  for (const unit of ["logship-agent.service", "logship-collector.service"]) await place(join(DEB_FILES, unit), stage, `lib/systemd/system/${unit}`, 0o644);
  await write(stage, "usr/share/man/man1/logship.1.gz", gzipSync(manPage(binary, version, commitDate()), { level: 9 }), 0o644);
  await write(stage, "usr/share/doc/logship/copyright", COPYRIGHT, 0o644);

  const installedKiB = Math.ceil((await treeBytes(stage)) / 1024);
  await write(stage, "DEBIAN/control", control(version, installedKiB), 0o644);
  await write(stage, "DEBIAN/conffiles", conffiles.join("\n") + "\n", 0o644);
  for (const script of ["postinst", "prerm", "postrm"]) await place(join(DEB_FILES, script), stage, `DEBIAN/${script}`, 0o755);

  const path = join(options.outDirectory, `logship_${version}_amd64.deb`);
  const compression = options.compression ?? "xz";
  execFileSync("dpkg-deb", [`-Z${compression}`, "--root-owner-group", "--build", stage, path], { stdio: "pipe" });
  return { path, version, bytes: (await stat(path)).size };
}

async function packageVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
  return manifest.version;
}

/** outDirectory/logship-linux-x64, rebuilt by buildSea when missing, older than a source file, or from another commit. */
async function freshBinary(outDirectory: string): Promise<string> {
  const binary = join(outDirectory, BINARY_NAME);
  const reason = await staleness(binary);
  if (reason !== null) {
    process.stderr.write(`building ${binary}: ${reason}\n`);
    await buildSea(outDirectory);
  }
  return binary;
}

async function staleness(binary: string): Promise<string | null> {
  const built = await stat(binary).catch(() => null);
  if (built === null) return "missing";
  const newest = await newestSource();
  if (newest.mtimeMs > built.mtimeMs) return `${newest.path} is newer`;
  const head = gitHead(ROOT) ?? "unknown";
  const version = execFileSync(binary, ["version"], { encoding: "utf8", env: { ...process.env, LOGSHIP_ROLE_OPTIONS: "off" } });
  return version.includes(`(commit ${head},`) ? null : `built from another commit than ${head} (${version.trim()})`;
}

async function newestSource(): Promise<{ path: string; mtimeMs: number }> {
  let newest = { path: "package.json", mtimeMs: (await stat(join(ROOT, "package.json"))).mtimeMs };
  for (const directory of SOURCE_DIRECTORIES) {
    const entries = await readdir(join(ROOT, directory), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile() || !/\.(ts|json|cjs|mjs|js)$/.test(entry.name) || entry.name.endsWith(".test.ts") || NOT_IN_BINARY.has(entry.name)) continue;
      const path = join(entry.parentPath, entry.name);
      const { mtimeMs } = await stat(path);
      if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
    }
  }
  return newest;
}

/** The date of the checkout's HEAD (YYYY-MM-DD) for the man page, so that a rebuild of one commit gives the same page; today outside a checkout. */
function commitDate(): string {
  try {
    return execFileSync("git", ["log", "-1", "--format=%cs"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return new Date().toISOString().slice(0, 10); // not a git checkout: the build date
  }
}

async function place(source: string, stage: string, target: string, mode: number): Promise<void> {
  const path = join(stage, target);
  await mkdir(join(path, ".."), { recursive: true, mode: 0o755 });
  await copyFile(source, path);
  await chmod(path, mode);
}

async function write(stage: string, target: string, content: string | Uint8Array, mode: number): Promise<void> {
  const path = join(stage, target);
  await mkdir(join(path, ".."), { recursive: true, mode: 0o755 });
  await writeFile(path, content);
  await chmod(path, mode);
}

async function treeBytes(directory: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}

function control(version: string, installedKiB: number): string {
  return [
    "Package: logship",
    `Version: ${version}`,
    "Architecture: amd64",
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${installedKiB}`,
    `Depends: ${DEPENDS}`,
    "Section: admin",
    "Priority: optional",
    "Description: log shipper: agent and collector in one executable",
    " logship tails log files on every host (the agent), ships their lines as",
    " compressed batches to collectors, which store them durably, index them",
    " for search and archive them. One self-contained executable (Node.js",
    " inside); systemd units logship-agent and logship-collector, not enabled",
    " until configured (/etc/default/logship, /etc/logship/).",
    "",
  ].join("\n");
}

const COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: logship

Files: *
License: Apache-2.0
Comment: /usr/bin/logship contains Node.js (MIT and the licenses of its
 bundled dependencies) and logship's npm dependencies (MIT, ISC, Apache-2.0).

License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
`;

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: join(ROOT, "dist") },
      version: { type: "string" },
      binary: { type: "string" },
      compression: { type: "string", default: "xz" },
    },
  });
  const compression = DEB_COMPRESSIONS.find((name) => name === values.compression);
  if (compression === undefined) throw new Error(`--compression: one of ${DEB_COMPRESSIONS.join(", ")}, not ${values.compression}`);
  const built = await buildDeb({ outDirectory: values.out, version: values.version, binary: values.binary, compression });
  process.stdout.write(`${built.path}: ${(built.bytes / 2 ** 20).toFixed(1)} MiB, version ${built.version}\n`);
}
