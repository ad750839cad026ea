"""The one exception type for a user's mistakes.

A missing file, an unknown study, a bad study file or setting: the CLI prints
these as one line and exits 2; anything else is a bug and shows its traceback.
(``uxlab --debug`` shows the traceback of a user's mistake too.)
"""


class UxlabError(Exception):
    """A mistake of the user's, told in one line that names what to change."""
