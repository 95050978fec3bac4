"""``python -m lindiff`` is the ``lindiff`` command (:mod:`lindiff.pipeline.cli`)."""

import sys

from lindiff.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
