"""The contract suite's machinery: what runs inside each per-version container, and the wall it talks
to the host through (:mod:`harness.suite.protocol`).

Standard library only (plus pytest in :mod:`harness.suite.plugin`): inside a container there is only
python3 and pytest. The test files themselves live in ``tests/contract/`` and ship with the package.
"""
