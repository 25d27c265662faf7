// Headless Chromium for the page tests, through playwright-core (a dev
// dependency) and the system's Chromium (CI installs Debian's `chromium`).
// A missing browser fails the tests with instructions: these tests are not
// skipped.

import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.RAFTKV_CHROMIUM ?? "/usr/bin/chromium";

/** The repository's test-output/ (gitignored): screenshots land there. */
export const TEST_OUTPUT = fileURLToPath(new URL("../../../test-output/", import.meta.url));

// The test machines have no network: without these, Chromium keeps trying to reach Google's services.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A fresh browser (Playwright gives it a fresh temporary profile, i.e. its own --user-data-dir). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: the dashboard tests need a real browser. ` +
        `Install Debian's package (apt-get install chromium), or point RAFTKV_CHROMIUM at a Chromium binary.`,
    );
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

export function screenshotPath(name: string): string {
  mkdirSync(TEST_OUTPUT, { recursive: true });
  return `${TEST_OUTPUT}${name}`;
}
