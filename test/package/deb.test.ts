/**
 * The Debian package (issue 7): built by the script `npm run package:deb`
 * runs (packaging/build-deb.ts), twice (a second, higher version for the
 * upgrade), then installed into a throwaway Debian 12 root
 * (test/engines/debian-root.ts: a fresh copy of a cached debootstrap per
 * run) with the root's own dpkg, chrooted (`unshare --root`): files, the
 * conffiles and maintainer scripts, the user logship, `logship version` and
 * `validate` of the shipped configs, `systemd-analyze verify` of both units;
 * an upgrade keeps an edited config and the data; `dpkg -r` keeps the data
 * and the user; `dpkg -P` deletes both. Nothing is installed on this
 * machine. Skipped unless root with dpkg-deb and unshare.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync } from "node:fs";
import { appendFile, link, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { test } from "node:test";
import { buildDeb, type BuiltDeb } from "../../packaging/build-deb.ts";
import { buildSea } from "../../packaging/build-sea.ts";
import { debianRootTarball, unpackDebianRoot, type CommandResult, type DebianRoot } from "../engines/debian-root.ts";

const UNITS = ["logship-agent.service", "logship-collector.service"];
const CONFFILES = ["/etc/logship/agent.yaml", "/etc/logship/collector.yaml", "/etc/default/logship"];
const TOKENS = { INGEST_TOKEN: "deb-ingest-token", SEARCH_TOKEN: "deb-search-token" };
/** One step on this machine: dpkg-deb on a 127 MiB package. */
const HOST_COMMAND_TIMEOUT_MS = 120_000;
/** The root is debootstrapped on the first run (~1 min, bounded at 16 min by debian-root.ts); later runs take ~20 s. */
const TEST_TIMEOUT_MS = 1_200_000;

function run(command: string, args: readonly string[]): CommandResult {
  const result = spawnSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: HOST_COMMAND_TIMEOUT_MS });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(command: string, args: readonly string[]): string {
  return succeeded(`${command} ${args.join(" ")}`, run(command, args));
}

function inRoot(root: DebianRoot, command: string, args: readonly string[], env?: Record<string, string>): string {
  return succeeded(`in the root: ${command} ${args.join(" ")}`, root.run(command, args, env));
}

function succeeded(what: string, result: CommandResult): string {
  assert.equal(result.status, 0, `${what}: exit ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (debootstrap, chroot into the throwaway root)";
  if (run("dpkg-deb", ["--version"]).status !== 0) return "needs dpkg-deb";
  if (run("unshare", ["--version"]).status !== 0) return "needs unshare (util-linux)";
  return undefined;
}

const skip = skipReason();

test("the .deb in a throwaway Debian root: contents, install, upgrade keeping an edited config and the data, remove keeping the data, purge deleting data and user", { skip: skip ?? false, timeout: TEST_TIMEOUT_MS }, async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-deb-"));
  let unpacked: DebianRoot | undefined;
  t.after(async () => {
    await unpacked?.remove();
    await rm(directory, { recursive: true, force: true });
  });
  // tar writes the root while the executable builds.
  const [binary, root] = await Promise.all([buildSea(directory), unpackDebianRoot(debianRootTarball(), join(directory, "root")).then((copy) => (unpacked = copy))]);
  assert.notEqual(root.run("dpkg-query", ["-W", "logship"]).status, 0, "a fresh root has no logship");
  const first = await buildDeb({ outDirectory: join(directory, "first"), binary: binary.path, version: "0.1.0", compression: "none" });
  assert.equal(first.path, join(directory, "first", "logship_0.1.0_amd64.deb"));
  checkContents(first);

  const firstInside = await placeInRoot(root, first);
  inRoot(root, "dpkg", ["--install", firstInside]);
  const uid = await checkInstalled(root);

  // Upgrade to a newer build: an edited conffile and the data stay.
  await appendFile(root.hostPath("/etc/logship/agent.yaml"), "# edited by test/package/deb.test.ts\n");
  const edited = await readFile(root.hostPath("/etc/logship/agent.yaml"), "utf8");
  await writeFile(root.hostPath("/var/lib/logship/agent/test-data"), "kept\n");
  const second = await buildDeb({ outDirectory: join(directory, "second"), binary: binary.path, version: "0.1.0+test2", compression: "none" });
  inRoot(root, "dpkg", ["--install", await placeInRoot(root, second)]);
  assert.equal(inRoot(root, "dpkg-query", ["-W", "-f", "${Version}", "logship"]), "0.1.0+test2");
  assert.equal(await readFile(root.hostPath("/etc/logship/agent.yaml"), "utf8"), edited);
  for (const leftover of [".dpkg-new", ".dpkg-dist", ".dpkg-old"]) assert.equal(existsSync(root.hostPath(`/etc/logship/agent.yaml${leftover}`)), false, leftover);
  assert.equal(await readFile(root.hostPath("/var/lib/logship/agent/test-data"), "utf8"), "kept\n");
  assert.equal(inRoot(root, "getent", ["passwd", "logship"]).split(":")[2], String(uid), "the same user");
  assert.match(inRoot(root, "/usr/bin/logship", ["version"]), /^logship 0\.1\.0 /);

  // Remove: the binary goes; data, user and configs stay.
  inRoot(root, "dpkg", ["--remove", "logship"]);
  assert.equal(existsSync(root.hostPath("/usr/bin/logship")), false);
  for (const unit of UNITS) assert.equal(existsSync(root.hostPath(`/lib/systemd/system/${unit}`)), false, unit);
  assert.equal(await readFile(root.hostPath("/var/lib/logship/agent/test-data"), "utf8"), "kept\n");
  assert.equal(root.run("getent", ["passwd", "logship"]).status, 0, "remove keeps the user");
  assert.equal(await readFile(root.hostPath("/etc/logship/agent.yaml"), "utf8"), edited);
  assert.equal(inRoot(root, "dpkg-query", ["-W", "-f", "${Status}", "logship"]), "deinstall ok config-files");

  // Purge: data, user, group, configs and deb-systemd-helper's state go.
  inRoot(root, "dpkg", ["--purge", "logship"]);
  for (const path of ["/var/lib/logship", "/etc/logship", "/etc/default/logship"]) assert.equal(existsSync(root.hostPath(path)), false, `${path} purged`);
  assert.notEqual(root.run("getent", ["passwd", "logship"]).status, 0, "purge deletes the user");
  assert.notEqual(root.run("getent", ["group", "logship"]).status, 0, "purge deletes the group");
  assert.notEqual(root.run("dpkg-query", ["-W", "logship"]).status, 0);
  for (const unit of UNITS) assert.equal(existsSync(root.hostPath(`/var/lib/systemd/deb-systemd-helper-enabled/${unit}.dsh-also`)), false, `${unit}: deb-systemd-helper forgot it`);
});

/** What dpkg-deb sees inside the package, read on this machine. */
function checkContents(deb: BuiltDeb): void {
  const info = ok("dpkg-deb", ["--info", deb.path]);
  for (const field of ["Package: logship", "Version: 0.1.0", "Architecture: amd64", "Depends: adduser, procps, "]) assert.match(info, new RegExp(`^ ${field.replace("+", "\\+")}`, "m"), info);
  for (const script of ["postinst", "prerm", "postrm"]) assert.match(info, new RegExp(`\\* +${script} +#!/bin/sh`), info);
  const conffiles = ok("sh", ["-c", `dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles`, "sh", deb.path]);
  assert.deepEqual(conffiles.trim().split("\n"), CONFFILES);
  const listing = ok("dpkg-deb", ["--contents", deb.path]);
  const entries = new Map(listing.trim().split("\n").map((line) => { const fields = line.split(/\s+/); return [fields[5] ?? "", `${fields[0]} ${fields[1]}`] as const; }));
  const expected: Record<string, string> = {
    "./usr/bin/logship": "-rwxr-xr-x root/root",
    "./etc/logship/agent.yaml": "-rw-r--r-- root/root",
    "./etc/logship/collector.yaml": "-rw-r--r-- root/root",
    "./etc/default/logship": "-rw------- root/root",
    "./lib/systemd/system/logship-agent.service": "-rw-r--r-- root/root",
    "./lib/systemd/system/logship-collector.service": "-rw-r--r-- root/root",
    "./usr/share/man/man1/logship.1.gz": "-rw-r--r-- root/root",
    "./usr/share/doc/logship/copyright": "-rw-r--r-- root/root",
  };
  for (const [path, modeOwner] of Object.entries(expected)) assert.equal(entries.get(path), modeOwner, `${path} in\n${listing}`);
}

/** Hard-links the package into the root's /tmp (same file system: no 127 MiB copy); returns its path inside. */
async function placeInRoot(root: DebianRoot, deb: BuiltDeb): Promise<string> {
  const inside = `/tmp/${basename(deb.path)}`;
  await link(deb.path, root.hostPath(inside));
  return inside;
}

/** After the first install: files, conffiles, the user, state directories, the commands, the units, the man page. Returns logship's uid. */
async function checkInstalled(root: DebianRoot): Promise<number> {
  const files = inRoot(root, "dpkg", ["--listfiles", "logship"]).trim().split("\n");
  for (const path of ["/usr/bin/logship", ...CONFFILES, ...UNITS.map((unit) => `/lib/systemd/system/${unit}`), "/usr/share/man/man1/logship.1.gz", "/usr/share/doc/logship/copyright"]) {
    assert.ok(files.includes(path), `dpkg lists ${path}`);
    assert.ok(existsSync(root.hostPath(path)), `${path} in place`);
  }
  const registered = inRoot(root, "dpkg-query", ["-W", "-f", "${Conffiles}", "logship"]).trim().split("\n").map((line) => line.trim().split(" ")[0]);
  assert.deepEqual(registered, CONFFILES, "dpkg registered the conffiles");
  assert.equal((await stat(root.hostPath("/etc/default/logship"))).mode & 0o777, 0o600, "/etc/default/logship is root's alone");
  assert.match(inRoot(root, "/usr/bin/logship", ["version"]), /^logship 0\.1\.0 \(commit ([0-9a-f]+|unknown), node v24\./);

  const user = inRoot(root, "getent", ["passwd", "logship"]).trim().split(":");
  assert.equal(user[5], "/var/lib/logship", "home");
  assert.equal(user[6], "/usr/sbin/nologin", "shell");
  const uid = Number(user[2]);
  assert.ok(uid < 1000, `a system user: uid ${uid}`);
  assert.equal(inRoot(root, "getent", ["group", "logship"]).split(":")[2], user[3], "its own group logship");
  for (const state of ["/var/lib/logship", "/var/lib/logship/agent", "/var/lib/logship/collector"]) {
    const info = await stat(root.hostPath(state));
    assert.equal(info.uid, uid, `${state} owned by logship`);
    assert.equal(info.mode & 0o777, 0o750, state);
  }

  assert.match(inRoot(root, "/usr/bin/logship", ["validate", "--config", "/etc/logship/agent.yaml"], TOKENS), /ok \(agent config\)/);
  assert.match(inRoot(root, "/usr/bin/logship", ["validate", "--config", "/etc/logship/collector.yaml"], TOKENS), /ok \(collector config\)/);
  const withoutToken = root.run("/usr/bin/logship", ["validate", "--config", "/etc/logship/agent.yaml"]);
  assert.equal(withoutToken.status, 2, "no INGEST_TOKEN in the environment: a config error");
  assert.match(withoutToken.stderr, /INGEST_TOKEN is not set/);

  // Both units, as installed (ExecStart, ExecReload and the man page in Documentation= exist); exit 0 and nothing said.
  const verify = root.run("systemd-analyze", ["verify", ...UNITS.map((unit) => `/lib/systemd/system/${unit}`)]);
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr, "", "systemd-analyze verify warns about nothing");
  for (const unit of UNITS) {
    assert.ok(existsSync(root.hostPath(`/var/lib/systemd/deb-systemd-helper-enabled/${unit}.dsh-also`)), `${unit}: deb-systemd-helper knows it`);
    // lstat: the link, if any, points into the root, which existsSync would resolve on this machine.
    assert.equal(lstatSync(root.hostPath(`/etc/systemd/system/multi-user.target.wants/${unit}`), { throwIfNoEntry: false }), undefined, `${unit} is not enabled by the install`);
  }
  assert.match(inRoot(root, "man", ["-w", "logship"]), /\/usr\/share\/man\/man1\/logship\.1\.gz/);
  const page = root.run("sh", ["-c", "zcat /usr/share/man/man1/logship.1.gz | groff -man -ww -z"]);
  assert.deepEqual([page.status, page.stderr], [0, ""], "logship(1) renders without troff warnings");
  assert.match(inRoot(root, "sh", ["-c", "zcat /usr/share/man/man1/logship.1.gz"]), /^\.SS "logship log dump"$/m);
  return uid;
}

