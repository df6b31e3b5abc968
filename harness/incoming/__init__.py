"""Readers of files that come from elsewhere: ``results.json`` (runs, CI shards, tox envs), repro bundles,
``bisect.jsonl`` and ``atlas.jsonl``.

They travel between machines and people (a fork's CI job, a stranger's bug report), so each has exactly
one reader here, a strict pydantic model in the style of matrix.yaml's (:mod:`harness.matrix.schema`):
bounded strings, registry vocabulary, one version type, finite numbers, aware timestamps. Anything else
is one line, exit 2, naming the file and the field, before anything runs (:mod:`.fields`). Nothing read
here is ever used as a path: files are found by the code, under roots it owns (:mod:`harness.safepath`).
"""
