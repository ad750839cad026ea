"""The one way uxlab makes a jinja2 environment (the console, the demo shop, the HTML report).

Every text is HTML-escaped unless a template says otherwise, a name the
template uses but the page does not give is an error (not an empty string),
and block tags leave no blank lines behind.
"""

from __future__ import annotations

from pathlib import Path

import jinja2


def environment(templates: Path) -> jinja2.Environment:
    """An environment loading the templates in the folder ``templates``."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
