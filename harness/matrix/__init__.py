"""matrix.yaml → validated model → cells: ``schema`` (the model), ``load`` (guarded reading),
``expand`` (cells with expectations and known regressions), ``select`` (command-line narrowing),
``shard`` (one deterministic slice of the selection per CI job)."""

from harness.matrix.expand import expand
from harness.matrix.load import load_matrix
from harness.matrix.schema import CREDENTIALS, EXPECTS, POLICIES, SCENARIOS, MatrixConfig, Timeouts
from harness.matrix.select import Selection, select, versions_of
from harness.matrix.shard import Shard, apply_shard, parse_shard, shard_cells
from harness.suite.protocol import CellSpec as Cell

__all__ = ["CREDENTIALS", "EXPECTS", "POLICIES", "SCENARIOS", "Cell", "MatrixConfig", "Selection", "Shard",
           "Timeouts", "apply_shard", "expand", "load_matrix", "parse_shard", "select",
           "shard_cells", "versions_of"]
