"""Console output for a matrix run: live per-container progress and the final grid (rich).

Several containers run at once, so nothing streams their raw output to the terminal: each container
gets a progress bar on a TTY (one line per event in CI logs), and its summary is printed as one block
when it finishes, so output never interleaves.
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.report.grid import SYMBOL, cell_key, grid_axes, lane_short
from harness.results import RunResults
from harness.run import JobRun
from harness.suite.credentials import CREDENTIAL_SETUPS
from harness.suite.expectations import EXPECTATIONS, LANE_OUTCOMES
from harness.suite.policies import POLICIES
from harness.suite.protocol import PYTHON_LANE
from harness.suite.sandboxes import DEFAULT_SANDBOX, SANDBOX_MODES

STYLE = {"pass": "green", "fail": "red", "error": "red", "timeout": "red", "xfail": "yellow", "skip": "dim"}


class ConsoleReporter:
    """Implements runner.Reporter; use as a context manager around the run."""

    def __init__(self, console: Console | None = None, *, details: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.details = details  # list the tests of each cell that missed (compat shows its own grid instead)
        self._lock = threading.Lock()
        self._live = self.console.is_terminal
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[state]}"), TimeElapsedColumn(), console=self.console,
            disable=not self._live,
        )
        self._tasks: dict[str, TaskID] = {}
        self._last: dict[str, int] = {}

    def __enter__(self) -> ConsoleReporter:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def job_started(self, job: JobRun) -> None:
        total = job.plan.lane_runs
        with self._lock:
            self._tasks[job.name] = self._progress.add_task(job.name, total=None, state="starting")
            if not self._live:
                self.console.print(f"▶ {job.name}: {len(job.plan.cells)} cells, {total} lane runs in {job.plan.image}",
                                   soft_wrap=True)

    def job_progress(self, job: JobRun, done: int) -> None:
        with self._lock:
            task = self._tasks.get(job.name)
            if task is not None:
                self._progress.update(task, completed=done, state="running tests")
            if not self._live and done - self._last.get(job.name, 0) >= 50:
                self._last[job.name] = done
                self.console.print(f"  {job.name}: {done} contract tests done", soft_wrap=True)

    def job_finished(self, job: JobRun) -> None:
        met = sum(1 for r in job.results if r.met)
        with self._lock:
            task = self._tasks.get(job.name)
            if task is not None:
                self._progress.update(task, total=1, completed=1,
                                      state="interrupted" if job.end.interrupted else
                                      f"{met}/{len(job.results)} cells met expectation")
            if job.end.interrupted:  # the user stopped it: one line, no list of cells it never finished
                self.console.print(f"[yellow]■ {job.name}: interrupted after {job.duration_s:.0f} s, "
                                   f"container removed[/yellow]", soft_wrap=True)
                return
            style = "green" if met == len(job.results) else "red"
            self.console.print(f"[{style}]■ {job.name}: {met}/{len(job.results)} cells met their "
                               f"expectation in {job.duration_s:.0f} s[/{style}]")
            for r in job.results if self.details else ():
                if not r.met:
                    bad = [t for t in r.tests if t.outcome in ("fail", "error")][:3]
                    self.console.print(f"  [red]{r.cell.id}: {r.status}[/red]")
                    for t in bad:
                        self.console.print(f"    {t.name}: {t.message}", markup=False)
                    if r.message and not bad:
                        self.console.print("    " + r.message.strip().replace("\n", "\n    "), markup=False)
            if job.kept:
                self.console.print(f"  kept container: [bold]{job.enter_command}[/bold] "
                                   "(`codex-matrix prune` removes it)", soft_wrap=True)
            elif job.orphaned:  # no exec line: there is no daemon to exec through
                self.console.print(f"  [yellow]container {job.container_name} could not be removed: the Docker daemon "
                                   "stopped answering; it ends by itself at its deadline, and the next codex-matrix "
                                   "command removes it[/yellow]", soft_wrap=True)


def legend(shown: set[str] | None = None) -> str:
    """What the grid's symbols and expectation tags mean, from the expectation registry; with ``shown``
    (the kinds in the grid), the foreign lanes' tags only when one of their kinds is in it."""
    lane_kinds = set(LANE_OUTCOMES)
    hide = set() if shown is None or shown & lane_kinds else lane_kinds
    tags = " · ".join(f"{k.tag} {k.legend}" for k in EXPECTATIONS.values() if k.tag and k.name not in hide)
    return ("✅ met · ⚠️ met, known regression (xfail) · ❌ fail · 💥 error · ⏱️ timeout · ➖ nothing selected\n"
            f"expected: {tags}")


def grid_table(results: RunResults) -> Table:
    """Compact enough for an 80-column CI log: a symbol and a one-letter expectation tag per cell."""
    versions, columns = grid_axes([r.cell for r in results.cells])
    by_key = {cell_key(r.cell): r for r in results.cells}
    table = Table(title="codex-native matrix", padding=(0, 1))
    table.add_column("version", style="bold", no_wrap=True)
    for credential, policy, sandbox, lane in columns:
        setup = CREDENTIAL_SETUPS.get(credential)
        entry = POLICIES.get(policy)
        header = f"{setup.short if setup else credential}\n{entry.short if entry else policy}"
        if sandbox != DEFAULT_SANDBOX:
            mode = SANDBOX_MODES.get(sandbox)
            header += f"\n{mode.short if mode else sandbox}"
        if lane != PYTHON_LANE:
            header += f"\n{lane_short(lane)}"
        table.add_column(header, justify="center", no_wrap=True)
    for version in versions:
        row = [version]
        for column in columns:
            r = by_key.get((version, *column))
            if r is None:
                row.append("")
                continue
            kind = EXPECTATIONS.get(r.cell.expect)
            text = f"{SYMBOL.get(r.status, '?')}{kind.tag if kind else '?'}"
            row.append(f"[{STYLE.get(r.status, '')}]{text}[/]")
        table.add_row(*row)
    return table


def print_summary(console: Console, results: RunResults, paths: list[str]) -> None:
    table = grid_table(results)
    if not console.is_terminal:  # CI logs: don't squeeze the grid into the 80-column default
        console = Console(file=console.file, width=max(console.width, 140))
    console.print(table)
    console.print(legend({r.cell.expect for r in results.cells}), style="dim")
    summary = ", ".join(f"{k} {v}" for k, v in results.summary().items() if v)
    unfinished = sum(1 for r in results.cells if r.unfinished == "interrupted")
    verdict = ("[green]every cell met its expectation[/green]" if results.ok else
               f"[yellow]interrupted: {unfinished} cells did not finish[/yellow]" if results.interrupted else
               "[red]some cells missed their expectation[/red]")
    console.print(f"{len(results.cells)} cells in {results.duration_s:.0f} s: {summary} — {verdict}")
    for path in paths:
        console.print(f"  wrote {path}")
