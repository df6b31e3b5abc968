"""Human and CI reports from RunResults: ``report.md`` (:mod:`.markdown`), ``junit.xml`` (:mod:`.junit`) and
``report.html`` (:mod:`.html`); :mod:`.files` writes them all (with ``results.json``) for ``run`` and ``merge``.

Reports are derived only from RunResults, never from the raw container output, so what a user reads
is exactly what ``results.json`` says; every file passes the redactor on its way out.
"""

from harness.report.files import exit_status, report_writers, write_reports
from harness.report.grid import SYMBOL, cell_label, grid_axes
from harness.report.html import render_html, write_html
from harness.report.junit import write_junit
from harness.report.markdown import render_markdown, write_markdown

__all__ = ["SYMBOL", "cell_label", "exit_status", "grid_axes", "render_html", "render_markdown", "report_writers",
           "write_html", "write_junit", "write_markdown", "write_reports"]
