"""``python -m annoflow``: the ``annoflow`` command line."""

import sys

from annoflow.adapters.cli import main

if __name__ == "__main__":
    sys.exit(main())
