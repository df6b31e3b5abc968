"""Human and CI reports from RunResults: ``report.md`` (:mod:`.markdown`) and ``junit.xml`` (:mod:`.junit`).

Reports are derived only from RunResults, never from the raw container output, so what a user reads
is exactly what ``results.json`` says; every file passes the redactor on its way out.
"""

from harness.report.grid import SYMBOL, cell_label, grid_axes
from harness.report.junit import write_junit
from harness.report.markdown import render_markdown, write_markdown

__all__ = ["SYMBOL", "cell_label", "grid_axes", "render_markdown", "write_junit", "write_markdown"]
