"""Entry point of ``codex-matrix``: builds the parser from the subcommand modules and maps outcomes to
exit codes, so a subcommand never has to know how errors are printed.

Exit codes (the README and ``--help`` say the same):

* 0 — done; for ``run``: every cell met its expectation;
* 1 — a cell missed its expectation (or ``lane read`` dropped rows, ``lane run`` did not complete);
* 2 — usage, configuration or environment error: one line naming the problem and the fix;
* 3 — internal error (a bug): one line on the console, the traceback saved to a file it names;
* 130 — interrupted (Ctrl-C, or SIGTERM from a cancelled CI job).

A closed pipe (``codex-matrix list | head -1``) ends quietly; SIGTERM is Ctrl-C for every command (so
cleanup in ``finally`` blocks runs) and only the first of them counts (:mod:`harness.interrupts`); an
``OSError`` the user can fix (disk full, read-only, permissions) is one line and exit 2; a terminal
that cannot show a character gets a replacement, never an error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from harness import __version__
from harness.errors import UserError, from_os_error
from harness.interrupts import command_signals

SUBCOMMAND_MODULES = (
    "harness.cli.run",
    "harness.cli.merge",
    "harness.cli.ci",
    "harness.cli.list_cells",
    "harness.cli.compat",
    "harness.cli.init",
    "harness.cli.fetch",
    "harness.cli.build",
    "harness.cli.prune",
    "harness.cli.lane",
    "harness.cli.resolve",
    "harness.cli.versions",
    "harness.cli.diff",
    "harness.cli.bisect",
    "harness.cli.repro",
    "harness.cli.atlas",
)

EXIT_OK, EXIT_MISSED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES_HELP = """exit status:
  0    done (run: every cell met its expectation)
  1    a cell missed its expectation
  2    usage, configuration or environment error (one line says what and how to fix it)
  3    internal error: the traceback is saved to a file named on the console
  130  interrupted (Ctrl-C or SIGTERM); a run still writes its reports
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(  # argparse exits 2 on usage errors: our code for them
        prog="codex-matrix",
        description="Docker-isolated integration test matrix for the codex-native lane.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"codex-matrix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def save_traceback(args: argparse.Namespace | None) -> Path | None:
    """Write the current exception's traceback under the run's out dir, else the user cache dir."""
    import platformdirs

    from harness.outdir import MARKER

    candidates = []
    out = getattr(args, "out", None)
    if isinstance(out, Path) and (out / MARKER).is_file():  # never into a directory that is not ours
        candidates.append(out)
    candidates.append(Path(platformdirs.user_cache_dir("codex-native-matrix")) / "crashes")
    name = f"codex-matrix-crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    for directory in candidates:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / name
            path.write_text(f"codex-matrix {__version__}\nargv: {sys.argv!r}\n\n{traceback.format_exc()}",
                            encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def _quiet_broken_pipe() -> int:
    """The reader went away (`| head`): point stdout at /dev/null so the interpreter's flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def _tolerant_streams() -> None:
    """A non-UTF-8 terminal or pipe (LANG=C, PYTHONIOENCODING=latin-1) shows ``?`` for ✅, never fails."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # detached or closed: nothing to print to anyway
                reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    # the real process (argv from sys.argv) keeps ignoring signals once the command is done, so a late
    # Ctrl-C cannot turn a finished run into a traceback at exit; in-process callers get theirs back
    with command_signals(restore=argv is not None):
        try:
            return _dispatch(args)
        except KeyboardInterrupt:  # the first signal landed while an outcome was being reported
            print("codex-matrix: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED


def _dispatch(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except UserError as exc:
        print(f"codex-matrix: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("codex-matrix: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as exc:
        user = from_os_error(exc)
        if user is None:
            return _internal_error(args, exc)
        print(f"codex-matrix: error: {user}", file=sys.stderr)
        return user.exit_code
    except Exception as exc:  # a bug: say so in one line, keep the evidence
        return _internal_error(args, exc)
    return code


def _internal_error(args: argparse.Namespace, exc: BaseException) -> int:
    """A bug: say so in one line, keep the evidence (called inside the ``except`` that caught it)."""
    where = save_traceback(args)
    saved = f"traceback saved to {where}" if where else "the traceback could not be saved"
    first = " ".join(str(exc).split())[:200]
    print(f"codex-matrix: internal error ({type(exc).__name__}: {first}); {saved}: please report it",
          file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
