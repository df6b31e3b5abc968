#!/usr/bin/env node
// @openai/codex-sdk as a lane: one request on stdin, one result on stdout (docs/lane-protocol.md, v1).
//
// Node >= 18 builtins only: this runs inside the per-version containers. The SDK is not installed; its
// `dist/` (from the npm registry, integrity-checked, cached by harness/lanes/sdk_cache.py) is imported from
// the directory the request names (options.sdk_dist), so one adapter drives every SDK version.
//
// Why it is written the way it is:
// - The turn is consumed exactly as the SDK's own `thread.run()` consumes it (the last agent_message is
//   the answer, `turn.failed` breaks and throws), but through `runStreamed()` so the adapter can record
//   the event types the SDK handed to its user. Every SDK version (0.46-0.163) has both.
// - The SDK has no timeout (an AbortSignal only from 0.63), so the adapter keeps its own: at
//   request.timeout_s it reports `hang` with the events seen so far and exits; the runner then kills the
//   process group, codex included.
// - PATH, HOME and CODEX_HOME are passed explicitly: from 0.63 the SDK's `env` option *replaces* the
//   environment, and before it the SDK copies process.env, which is therefore replaced too, so every
//   version hands codex the same built environment.
// - Modes: `documented` passes baseUrl and apiKey as the SDK README says (the answer its users get);
//   `provider` passes a pinned custom provider through `config` (options.config, 0.99+; CODEX_HOME's
//   config.toml pins the same provider for older SDKs) and no baseUrl, so only the event seam is tested.
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const PROTOCOL = 1;
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const EXIT_RE = /^Codex Exec exited with (?:code (-?\d+)|signal (\w+))/;

let lane = "codex-sdk@unknown";
const seen = [];
let lastError = null; // the last error codex reported in the stream (retry notices included)
let finished = false;

function emit(result) {
  if (finished) return;
  finished = true;
  const doc = {
    protocol: PROTOCOL, lane, events: seen.slice(), thread_id: null, final_text: null, usage: null,
    exit_code: null, error: null, transcript: null, stderr: null, ...result,
    extra: { ...(result.extra || {}), last_codex_error: lastError },
  };
  process.stdout.write(JSON.stringify(doc) + "\n", () => process.exit(0));
}

function firstLine(text) {
  const line = String(text).split("\n").map((l) => l.trim()).find((l) => l) || "";
  return line.length > 300 ? line.slice(0, 299) + "…" : line;
}

function fail(message, extra = {}) {
  emit({ outcome: "crash", error: message, extra });
}

function sdkVersion(dist) {
  try {
    return JSON.parse(readFileSync(path.join(dist, "..", "package.json"), "utf8")).version || "unknown";
  } catch {
    return "unknown";
  }
}

// What this SDK version does with the seam, read from its own code (for the report, never for control).
function sdkTraits(dist) {
  let source = "";
  try {
    source = readFileSync(path.join(dist, "index.js"), "utf8");
  } catch {
    return {};
  }
  return {
    base_url_via: source.includes("env.OPENAI_BASE_URL") ? "env OPENAI_BASE_URL"
      : source.includes("openai_base_url=") ? "--config openai_base_url" : "unknown",
    env_option: source.includes("envOverride"),
    config_option: source.includes("serializeConfigOverrides"),
  };
}

function classifyThrown(err, turnFailed) {
  const message = err && err.message !== undefined ? String(err.message) : String(err);
  if (turnFailed) return { outcome: "exit-nonzero", error: `turn.failed: ${message}` };
  const match = EXIT_RE.exec(message);
  if (match) {
    return { outcome: "exit-nonzero", error: message, exit_code: match[1] !== undefined ? Number(match[1]) : null };
  }
  const name = err && err.name ? err.name : "Error";
  return { outcome: "crash", error: `${name}: ${firstLine(message) || "no message"}` };
}

async function main() {
  let req;
  try {
    req = JSON.parse(readFileSync(0, "utf8"));
  } catch (err) {
    return fail(`bad request: not JSON (${err.message})`);
  }
  if (!req || req.protocol !== PROTOCOL) return fail(`bad request: protocol ${req && req.protocol}, this adapter speaks ${PROTOCOL}`);
  const options = req.options || {};
  const mode = options.mode || "documented";
  if (mode !== "documented" && mode !== "provider") return fail(`bad request: mode ${JSON.stringify(mode)} is not documented or provider`);
  if (typeof options.sdk_dist !== "string") return fail("bad request: options.sdk_dist must name the SDK's dist/ directory");
  const dist = path.resolve(options.sdk_dist);
  lane = `codex-sdk@${sdkVersion(dist)}`;
  const traits = sdkTraits(dist);
  const extra = { mode, sdk: traits };

  const env = { PATH: process.env.PATH || DEFAULT_PATH, HOME: req.home, CODEX_HOME: req.codex_home, LANG: "C.UTF-8",
    ...(req.env || {}) };
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env);

  const timer = setTimeout(() => {
    const last = lastError ? `; codex's last error: ${lastError}` : "";
    emit({ outcome: "hang", error: `no result from the SDK within ${req.timeout_s} s (it has no timeout of its own)${last}`, extra });
  }, Math.max(1, req.timeout_s * 1000));

  let Codex;
  try {
    ({ Codex } = await import(pathToFileURL(path.join(dist, "index.js")).href));
  } catch (err) {
    clearTimeout(timer);
    return fail(`could not load the SDK from ${dist}: ${firstLine(err.message)}`, extra);
  }
  const apiKey = (req.env || {}).CODEX_API_KEY || (req.env || {}).OPENAI_API_KEY;
  const codexOptions = { codexPathOverride: req.codex_path, env };
  if (apiKey) codexOptions.apiKey = apiKey;
  if (mode === "documented") codexOptions.baseUrl = req.base_url;
  else if (options.config) codexOptions.config = options.config;
  const abort = new AbortController();
  let turnFailed = false;
  let thread;
  const items = [];
  let finalResponse = "";
  let usage = null;
  try {
    const codex = new Codex(codexOptions);
    thread = codex.startThread({ workingDirectory: req.cwd, skipGitRepoCheck: true,
      sandboxMode: options.sandbox || "danger-full-access" });
    const { events } = await thread.runStreamed(req.prompt, { signal: abort.signal });
    // the same loop as the SDK's own Thread.run()
    let turnFailure = null;
    for await (const event of events) {
      seen.push(event && typeof event.type === "string" ? event.type : "(untyped)");
      const said = event && (event.type === "error" ? event.message
        : event.item && event.item.type === "error" ? event.item.message : undefined);
      if (said !== undefined) lastError = firstLine(said);
      if (event.type === "item.completed") {
        if (event.item.type === "agent_message") finalResponse = event.item.text;
        items.push(event.item);
      } else if (event.type === "turn.completed") {
        usage = event.usage;
      } else if (event.type === "turn.failed") {
        turnFailure = event.error;
        break;
      }
    }
    if (turnFailure) {
      turnFailed = true;
      throw new Error(turnFailure.message);
    }
  } catch (err) {
    clearTimeout(timer);
    return emit({ ...classifyThrown(err, turnFailed), thread_id: thread ? thread.id : null, extra });
  }
  clearTimeout(timer);
  const answered = typeof finalResponse === "string" && finalResponse.trim() !== "";
  return emit({
    outcome: answered ? "ok" : "silent-empty", thread_id: thread.id, final_text: finalResponse || null,
    usage: usage && typeof usage === "object" ? Object.fromEntries(Object.entries(usage)
      .filter(([, v]) => Number.isInteger(v) && v >= 0)) : null,
    exit_code: 0, extra: { ...extra, items: items.length },
  });
}

process.on("uncaughtException", (err) => fail(`uncaught ${err && err.name}: ${firstLine(err && err.message)}`));
process.on("unhandledRejection", (err) => fail(`unhandled rejection ${err && err.name}: ${firstLine(err && err.message)}`));
main().catch((err) => fail(`adapter error ${err && err.name}: ${firstLine(err && err.message)}`));
