"""``python -m mmlt train|test ARGS``: see :mod:`mmlt.cli`."""
import sys

from .cli import main

sys.exit(main())
