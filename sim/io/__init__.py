"""Input and output of run folders: written whole or not at all, read back checked.

Imports the layers below it (model to analysis); the studies, figures and command line
above it write and read through it.
"""
