/**
 * Test builds only (esbuild.mjs `--test-hooks`): holds back the webviews' `ready`, so the panels'
 * e2e test (test/e2e/panels-run.ts) can see the loading notification of singletonPanel.ts while a
 * webview is loaded but not yet ready, without depending on how slow the machine is. A shipped
 * bundle does not contain it (test/unit/bundles.test.ts).
 */
let holding = false;
const held: (() => void)[] = [];

/** From now on, a webview's `ready` waits until releasePanelsReadyForTests. */
export function holdPanelsReadyForTests(): void {
  holding = true;
}

/** Delivers the held `ready` messages and stops holding; returns how many were held. */
export function releasePanelsReadyForTests(): number {
  holding = false;
  const deliveries = held.splice(0);
  for (const deliver of deliveries) deliver();
  return deliveries.length;
}

/** True when `deliver` was kept for later (a hold is on); false: deliver now. */
export function heldReadyForTests(deliver: () => void): boolean {
  if (!holding) return false;
  held.push(deliver);
  return true;
}
