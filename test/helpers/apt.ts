/**
 * Tests that need a Debian package (logrotate, kafkacat, chromium) install
 * it themselves when it is missing: CI machines start without them.
 */
import { execFileSync } from "node:child_process";

/** `apt-get update` then `apt-get install -y PACKAGE` (as root); throws with apt's last lines when it fails. */
export function aptInstall(packageName: string): void {
  const apt = (args: string[]): void => {
    try {
      execFileSync("apt-get", args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, timeout: 300_000 });
    } catch (error) {
      const failure = error as { stderr?: Buffer; message: string };
      const detail = failure.stderr?.toString().trim().split("\n").slice(-3).join(" | ") ?? failure.message;
      throw new Error(`${packageName} is not installed and \`apt-get ${args.join(" ")}\` failed (tests need root on Debian, or the package preinstalled): ${detail}`);
    }
  };
  apt(["update", "-qq"]);
  apt(["-o", "DPkg::Lock::Timeout=120", "install", "-y", "-qq", "--no-install-recommends", packageName]);
}
