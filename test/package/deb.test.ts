/**
 * The Debian package (issue 7): built by the script `npm run package:deb`
 * runs (packaging/build-deb.ts), twice (a second, higher version for the
 * upgrade), then installed on this machine with dpkg as root: files, the
 * conffiles and maintainer scripts, the user logship, `logship version` and
 * `validate` of the shipped configs, `systemd-analyze verify` of both units;
 * an upgrade keeps an edited config and the data; `dpkg -r` keeps the data
 * and the user; `dpkg -P` deletes both. The package is purged at the end,
 * whatever happened. Skipped unless root with dpkg and no logship installed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildDeb } from "../../packaging/build-deb.ts";
import { buildSea } from "../../packaging/build-sea.ts";

const UNITS = ["logship-agent.service", "logship-collector.service"];
const TOKENS = { INGEST_TOKEN: "deb-ingest-token", SEARCH_TOKEN: "deb-search-token" };

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): string {
  const result = run(command, args, env);
  assert.equal(result.status, 0, `${command} ${args.join(" ")}: exit ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (dpkg -i)";
  if (run("dpkg-deb", ["--version"]).status !== 0) return "needs dpkg-deb";
  if (run("dpkg-query", ["-W", "logship"]).status === 0) return "logship is installed on this machine already; not touching it";
  if (run("getent", ["passwd", "logship"]).status === 0) return "a user logship exists already; not touching it";
  return undefined;
}

const skip = skipReason();

test("the .deb: contents, install, upgrade keeping an edited config and the data, remove keeping the data, purge deleting data and user", { skip: skip ?? false, timeout: 300_000 }, async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-deb-"));
  t.after(async () => {
    // Never leave logship installed on this machine.
    if (run("dpkg-query", ["-W", "logship"]).status === 0) run("dpkg", ["--purge", "logship"]);
    await rm(directory, { recursive: true, force: true });
  });
  const binary = await buildSea(directory);
  const first = await buildDeb({ outDirectory: directory, binary: binary.path, version: "0.1.0", compression: "none" });
  assert.equal(first.path, join(directory, "logship_0.1.0_amd64.deb"));

  // What dpkg-deb sees inside.
  const info = ok("dpkg-deb", ["--info", first.path]);
  for (const field of ["Package: logship", "Version: 0.1.0", "Architecture: amd64", "Depends: adduser"]) assert.match(info, new RegExp(`^ ${field.replace("+", "\\+")}`, "m"), info);
  for (const script of ["postinst", "prerm", "postrm"]) assert.match(info, new RegExp(`\\* +${script} +#!/bin/sh`), info);
  const conffiles = ok("sh", ["-c", `dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles`, "sh", first.path]);
  assert.deepEqual(conffiles.trim().split("\n"), ["/etc/logship/agent.yaml", "/etc/logship/collector.yaml", "/etc/default/logship"]);
  const listing = ok("dpkg-deb", ["--contents", first.path]);
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

  // Install.
  ok("dpkg", ["--install", first.path]);
  assert.match(ok("/usr/bin/logship", ["version"]), /^logship 0\.1\.0 \(commit ([0-9a-f]+|unknown), node v24\./);
  const user = ok("getent", ["passwd", "logship"]).trim().split(":");
  assert.equal(user[5], "/var/lib/logship", "home");
  assert.equal(user[6], "/usr/sbin/nologin", "shell");
  assert.ok(Number(user[2]) < 1000, `a system user: uid ${user[2]}`);
  for (const state of ["/var/lib/logship", "/var/lib/logship/agent", "/var/lib/logship/collector"]) {
    const info = await stat(state);
    assert.equal(info.uid, Number(user[2]), `${state} owned by logship`);
    assert.equal(info.mode & 0o777, 0o750, state);
  }
  const withTokens = { ...process.env, ...TOKENS };
  assert.match(ok("/usr/bin/logship", ["validate", "--config", "/etc/logship/agent.yaml"], withTokens), /ok \(agent config\)/);
  assert.match(ok("/usr/bin/logship", ["validate", "--config", "/etc/logship/collector.yaml"], withTokens), /ok \(collector config\)/);
  const withoutToken = run("/usr/bin/logship", ["validate", "--config", "/etc/logship/agent.yaml"], { PATH: process.env["PATH"] });
  assert.equal(withoutToken.status, 2, "no INGEST_TOKEN in the environment: a config error");
  assert.match(withoutToken.stderr, /INGEST_TOKEN is not set/);
  // Both units, as installed (ExecStart, ExecReload and the man page in Documentation= exist); exit 0 and nothing said.
  const verify = run("systemd-analyze", ["verify", ...UNITS.map((unit) => `/lib/systemd/system/${unit}`)]);
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr, "", "systemd-analyze verify warns about nothing");
  assert.match(ok("man", ["-w", "logship"]), /\/usr\/share\/man\/man1\/logship\.1\.gz/);
  const page = run("sh", ["-c", "zcat /usr/share/man/man1/logship.1.gz | groff -man -ww -z"]);
  assert.deepEqual([page.status, page.stderr], [0, ""], "logship(1) renders without troff warnings");
  assert.match(ok("sh", ["-c", "zcat /usr/share/man/man1/logship.1.gz"]), /^\.SS "logship log dump"$/m);

  // Upgrade to a newer build: an edited conffile and the data stay.
  await appendFile("/etc/logship/agent.yaml", "# edited by test/package/deb.test.ts\n");
  const edited = await readFile("/etc/logship/agent.yaml", "utf8");
  await writeFile("/var/lib/logship/agent/test-data", "kept\n");
  const second = await buildDeb({ outDirectory: join(directory, "second"), binary: binary.path, version: "0.1.0+test2", compression: "none" });
  ok("dpkg", ["--install", second.path]);
  assert.equal(ok("dpkg-query", ["-W", "-f", "${Version}", "logship"]), "0.1.0+test2");
  assert.equal(await readFile("/etc/logship/agent.yaml", "utf8"), edited);
  assert.equal(existsSync("/etc/logship/agent.yaml.dpkg-new") || existsSync("/etc/logship/agent.yaml.dpkg-dist"), false);
  assert.equal(await readFile("/var/lib/logship/agent/test-data", "utf8"), "kept\n");
  assert.equal(ok("getent", ["passwd", "logship"]).split(":")[2], user[2], "the same user");

  // Remove: the binary goes; data, user and configs stay.
  ok("dpkg", ["--remove", "logship"]);
  assert.equal(existsSync("/usr/bin/logship"), false);
  assert.equal(existsSync("/lib/systemd/system/logship-agent.service"), false);
  assert.equal(await readFile("/var/lib/logship/agent/test-data", "utf8"), "kept\n");
  assert.equal(run("getent", ["passwd", "logship"]).status, 0, "remove keeps the user");
  assert.equal(await readFile("/etc/logship/agent.yaml", "utf8"), edited);
  assert.equal(ok("dpkg-query", ["-W", "-f", "${Status}", "logship"]), "deinstall ok config-files");

  // Purge: data, user, group and configs go.
  ok("dpkg", ["--purge", "logship"]);
  for (const path of ["/var/lib/logship", "/etc/logship", "/etc/default/logship"]) assert.equal(existsSync(path), false, `${path} purged`);
  assert.notEqual(run("getent", ["passwd", "logship"]).status, 0, "purge deletes the user");
  assert.notEqual(run("getent", ["group", "logship"]).status, 0, "purge deletes the group");
  assert.notEqual(run("dpkg-query", ["-W", "logship"]).status, 0);
  for (const unit of UNITS) assert.equal(existsSync(`/var/lib/systemd/deb-systemd-helper-enabled/${unit}.dsh-also`), false, `${unit}: deb-systemd-helper forgot it`);
});
