/**
 * A real browser for the web UI's tests and benchmark: Debian's Chromium
 * (installed with apt when missing), driven by playwright-core, headless,
 * without a sandbox (tests run as root in containers) and with Chromium's
 * background networking (updates, safe browsing, metrics) turned off, so
 * the only traffic is the page's own.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { aptInstall } from "./apt.ts";

export const CHROMIUM = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-default-apps",
  "--disable-sync",
  "--disable-domain-reliability",
  "--disable-breakpad",
  "--no-first-run",
  "--no-default-browser-check",
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) aptInstall("chromium");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
