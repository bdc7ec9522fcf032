"""``python -m sim``: the same as the ``deconflict`` command."""

import sys

from sim.cli import console

sys.exit(console())
