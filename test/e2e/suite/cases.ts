/**
 * The runner of the suites inside the extension host (index.ts, editor.ts): a tiny one instead of
 * mocha. Cases run in order, each with a timeout, and report to $TERNARY_E2E_REPORT line by line
 * (test/e2e/harness.ts prints the file); TERNARY_E2E_GREP keeps only the cases whose name
 * matches (the first, activation, always runs). VS Code calls the suite's `run()`; a rejection
 * makes `window.codeAutomationExit(1)`.
 */
import { appendFileSync } from 'node:fs';

const reportFile = process.env.TERNARY_E2E_REPORT;

export function report(line: string): void {
  if (reportFile) appendFileSync(reportFile, `${line}\n`);
}

/** Polls `check` every 100 ms until it returns a value other than undefined/false; a throw ends the wait. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | false | Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Case {
  name: string;
  timeoutMs: number;
  fn: () => Promise<void>;
}
const cases: Case[] = [];
const only = process.env.TERNARY_E2E_GREP ? new RegExp(process.env.TERNARY_E2E_GREP) : undefined;

export function test(name: string, timeoutMs: number, fn: () => Promise<void>): void {
  if (only && cases.length > 0 && !only.test(name)) return;
  cases.push({ name, timeoutMs, fn });
}

/** Runs the cases; rejects when any failed. `what` names them in the last line ("integration"). */
export async function runCases(what: string): Promise<void> {
  let failures = 0;
  for (const c of cases) {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${c.timeoutMs} ms`)), c.timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      report(`ok   ${c.name} (${Date.now() - started} ms)`);
    } catch (error) {
      failures++;
      report(
        `FAIL ${c.name} (${Date.now() - started} ms)\n  ${(error instanceof Error ? (error.stack ?? error.message) : String(error)).replace(/\n/g, '\n  ')}`,
      );
    }
  }
  report(`${cases.length - failures}/${cases.length} ${what} tests passed`);
  if (failures > 0) throw new Error(`${failures} ${what} test(s) failed`);
}
