"""Lanes: every consumer of ``codex exec --json``, reached through one small adapter protocol.

A lane is a program in any language (our Python lane, OpenAI's TypeScript SDK, a user's shell
script). It reads one JSON request on stdin and prints one JSON result on stdout
(:mod:`harness.lanes.protocol`); :mod:`harness.lanes.runner` starts it in its own process group under a
hard kill timeout. The protocol module, the runner and the adapters are standard library only: they
run inside the per-version containers, which hold python3 (and Node for JavaScript lanes) and nothing else.
"""
