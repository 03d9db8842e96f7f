"""Bad input, as one exception type every layer raises: a value a person gave that cannot run.

The commands print it as one line (`error: ...`, naming the value and what was expected) and exit 2, before
anything is started or written; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class BadInput(ValueError):
    """A value from the command line, a study file or a config that cannot run; its message is the one line."""
