"""Progress bars that behave in a terminal and in a log file alike.

On a terminal the bar is live and cleared when done; written to a file (a rule's log, where
the workflow sends stderr) it is drawn twice, at the start and once at the end, so that a log
holds one final line per bar instead of hundreds of carriage-return frames.
"""

from __future__ import annotations

import sys


def progress_bar(iterable=None, *, total: int | None = None, initial: int = 0, desc: str = "", file=None):
    """A ``tqdm`` bar over ``iterable`` (or of ``total`` steps) on ``file`` (default stderr)."""
    from tqdm.auto import tqdm

    stream = file if file is not None else sys.stderr
    live = bool(getattr(stream, "isatty", lambda: False)())
    return tqdm(iterable, total=total, initial=initial, desc=desc, file=stream, leave=not live,
                mininterval=0.1 if live else float("inf"))
