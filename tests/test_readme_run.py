"""The README's run command is the one CI's fresh-machine check runs (they cannot drift)."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT


def readme_run_command() -> str:
    """The first indented command under "The two commands" in README.md."""
    section = (ROOT / "README.md").read_text().split("## The two commands", 1)[1]
    return re.search(r"^    (\S.*)$", section, re.MULTILINE).group(1)  # type: ignore[union-attr]


def test_readme_run_command_is_what_ci_runs() -> None:
    check = (ROOT / ".ci" / "fresh-run.sh").read_text()
    ran = re.search(r"^RUN_COMMAND='(.*)'$", check, re.MULTILINE)
    assert ran is not None
    assert readme_run_command() == ran.group(1) == "./uxlab serve"
    assert ".ci/fresh-run.sh" in (ROOT / ".ci" / "run").read_text().split("test.sh")[0]


def test_launcher_and_check_are_valid_shell() -> None:
    for script in ("uxlab", ".ci/fresh-run.sh", ".ci/run"):
        subprocess.run(["bash", "-n", str(ROOT / script)], check=True)
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"
