"""Presentation: figures, tables and the HTML report, from run and sweep folders.

Matplotlib functions that draw on an ``Axes``, text and HTML tables, and the one-page
report. Imports every layer below it but the command line.
"""
