"""codex-native-matrix: a Docker-isolated integration test matrix for the codex-native lane."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codex-native-matrix")
except PackageNotFoundError:  # imported from a checkout that was never installed (or inside a container)
    __version__ = "0+unknown"
