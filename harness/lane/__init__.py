"""The codex-native lane: drives ``codex exec --json`` and projects it into transcript rows.

Standard library only: the lane runs inside minimal per-version containers and must be embeddable in
other programs, so it never imports the matrix machinery.
"""
