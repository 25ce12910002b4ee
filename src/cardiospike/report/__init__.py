"""The report of scored recordings: one self-contained HTML file that opens offline, prints cleanly and can be sent.

A header names the model (version, threshold, cross-validated F1), the input file (name, SHA-256), the package
version and the date; a section per recording holds its RR chart with the episodes and anomalous beats, the episodes
table, the HRV summary and the measurement errors. Long recordings have their RR line decimated for display
(:mod:`cardiospike.report.decimate`), never their anomalous beats or measurement errors.

>>> html = render_report(detector.score_many(recordings), model=ModelInfo.of(detector),
...                      source=SourceInfo.of_file("rr.csv"))  # doctest: +SKIP
"""

from cardiospike.report.content import ModelInfo, Section, SourceInfo, file_stem, section_of
from cardiospike.report.render import ReportError, render_report

__all__ = ["ModelInfo", "ReportError", "Section", "SourceInfo", "file_stem", "render_report", "section_of"]
