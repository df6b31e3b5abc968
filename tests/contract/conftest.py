"""The contract suite runs INSIDE each per-version container; its plumbing is the package's plugin
(:mod:`harness.suite.plugin`): cells in from the host, one lane run per (cell, scenario), records out."""

pytest_plugins = ["harness.suite.plugin"]
