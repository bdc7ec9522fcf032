"""Analysis: what a run or many runs mean in numbers.

Summaries, near-miss statistics, replications and bootstrap intervals, paired comparison of
variants and calibration against a reported rate. Imports the layers below (model, traffic,
detect, engine), never the outputs, studies or presentation above it.
"""
