/**
 * Monitoring pings, as healthchecks.io and its kind take them: `URL/start`
 * when a backup begins, `URL` when it succeeds, `URL/fail` with a short
 * error text when it fails. A ping that cannot be delivered is a warning,
 * never a failed backup; each is tried a few times, each try with a timeout.
 */
import type { PingUrl } from "./config_keys.ts";
import { firstLineOf, SecretCommandError } from "../io/secret_command.ts";

export type PingKind = "start" | "success" | "fail";

const TRIES = 3;
/** healthchecks keeps the first 100 kB of a body; an error line needs far less. */
const MAX_BODY = 10_000;

/**
 * Whether `text` is an http:// or https:// URL a ping can go to. A message
 * about it never quotes it: the URL holds the check's secret.
 */
export function isPingUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.host !== "";
  } catch {
    return false;
  }
}

/** The URL a ping of `kind` goes to. */
export function pingUrlFor(base: string, kind: PingKind): string {
  if (kind === "success") return base;
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${kind}`;
  return url.toString();
}

/**
 * Sends one ping; returns what went wrong, or undefined when it was delivered.
 * @param delays the waits between tries, in milliseconds
 */
export async function sendPing(
  ping: PingUrl,
  kind: PingKind,
  body = "",
  delays: readonly number[] = [1000, 3000],
): Promise<string | undefined> {
  let base: string;
  if ("url" in ping) {
    base = ping.url;
  } else if ("command" in ping) {
    try {
      base = (await firstLineOf(ping.command, "the ping URL command", ping.timeoutSeconds)).trim();
    } catch (error) {
      if (!(error instanceof SecretCommandError)) throw error;
      return `${error.message}, so no ${kind} ping was sent`;
    }
    if (!isPingUrl(base)) {
      return `the ping URL command did not print an http:// or https:// URL, so no ${kind} ping was sent`;
    }
  } else {
    try {
      base = (await Deno.readTextFile(ping.file)).split("\n")[0].trim();
    } catch (error) {
      return `cannot read the ping URL from ${ping.file}: ${(error as Error).message}`;
    }
    if (!isPingUrl(base)) {
      return `the first line of ${ping.file} is not an http:// or https:// URL, so no ${kind} ping was sent`;
    }
  }
  const url = pingUrlFor(base, kind);
  let problem = "";
  for (let attempt = 0; attempt < TRIES; attempt++) {
    if (attempt > 0) await new Promise((wake) => setTimeout(wake, delays[attempt - 1] ?? 0));
    try {
      const response = await fetch(url, {
        method: "POST",
        body: body.slice(0, MAX_BODY),
        signal: AbortSignal.timeout(ping.timeoutSeconds * 1000),
      });
      await response.body?.cancel();
      if (response.ok) return undefined;
      problem = `the server answered ${response.status} ${response.statusText}`.trim();
      // A 4xx (a wrong URL) will not mend itself.
      if (response.status < 500 && response.status !== 429) break;
    } catch (error) {
      problem = error instanceof DOMException && error.name === "TimeoutError"
        ? `no answer within ${ping.timeoutSeconds} s`
        : (error as Error).message;
    }
  }
  // The URL may hold a secret (a check's UUID): name only its host.
  return `the ${kind} ping to ${new URL(url).host} failed: ${problem}`;
}
