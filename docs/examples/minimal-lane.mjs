#!/usr/bin/env node
// A whole lane in 30 lines (docs/lane-protocol.md): run codex exec --json once, report what it saw.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const req = JSON.parse(readFileSync(0, "utf8"));
const env = { PATH: process.env.PATH, HOME: req.home, CODEX_HOME: req.codex_home, ...req.env };
const args = ["exec", "--json", "--skip-git-repo-check", "-C", req.cwd, "--", req.prompt];
const child = spawn(req.codex_path, args, { env, stdio: ["ignore", "pipe", "pipe"] });
let out = "", err = "";
child.stdout.on("data", (d) => (out += d));
child.stderr.on("data", (d) => (err += d));
const timer = setTimeout(() => child.kill("SIGKILL"), req.timeout_s * 1000);
child.on("close", (code, signal) => {
  clearTimeout(timer);
  const events = out.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const texts = events.filter((e) => e.type === "item.completed" && e.item.type === "agent_message");
  const failed = events.find((e) => e.type === "turn.failed");
  const done = events.find((e) => e.type === "turn.completed");
  const answer = texts.length ? texts[texts.length - 1].item.text : null;
  let outcome = answer ? "ok" : "silent-empty", error = null;
  if (signal) [outcome, error] = ["hang", `codex killed by ${signal} after ${req.timeout_s} s`];
  else if (failed) [outcome, error] = ["exit-nonzero", `turn.failed: ${failed.error.message}`];
  else if (code !== 0) [outcome, error] = ["exit-nonzero", `codex exited ${code}: ${err.trim().split("\n").pop()}`];
  const started = events.find((e) => e.type === "thread.started");
  console.log(JSON.stringify({
    protocol: 1, lane: "minimal@1", outcome, error, events: events.map((e) => e.type), exit_code: code,
    thread_id: started ? started.thread_id : null, final_text: outcome === "ok" ? answer : null,
    usage: done ? done.usage : null,
  }));
});
