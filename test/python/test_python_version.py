"""The oldest Python the plugin declares (aws_iot.py MIN_PYTHON) is enough for its code.

PlatformIO runs the extra script with whatever Python 3 the user's system or its installer
provides, so the plugin must not use a newer feature than it declares. vermin reads the
code and reports the minimum version each construct and library member needs.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SCRIPT


def declared_minimum():
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "MIN_PYTHON":
            return ast.literal_eval(node.value)
    raise AssertionError("aws_iot.py declares no MIN_PYTHON")


def vermin():
    beside = Path(sys.executable).parent / ("vermin.exe" if os.name == "nt" else "vermin")
    found = str(beside) if beside.exists() else shutil.which("vermin")
    if not found:
        pytest.skip("vermin is not installed: pip install -r requirements-dev.txt")
    return found


def test_the_code_needs_no_newer_python_than_declared():
    minimum = declared_minimum()
    target = "%d.%d" % minimum
    done = subprocess.run([vermin(), "--no-tips", "--eval-annotations", f"-t={target}-", "--violations",
                           str(REPO / "extra_scripts")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"Minimum required versions: (?:~?2\.\d+, )?(\d+)\.(\d+)", done.stdout)
    assert found, done.stdout
    assert (int(found.group(1)), int(found.group(2))) <= minimum


def test_vermin_really_looks(tmp_path):
    """A 3.10 construct (match) is reported against a 3.9 target."""
    (tmp_path / "new.py").write_text("def f(x):\n    match x:\n        case 1:\n            return 2\n")
    done = subprocess.run([vermin(), "--no-tips", "-t=3.9-", "--violations", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0


def test_an_older_python_stops_with_one_line(tmp_path):
    """As an older interpreter would see it: the same script demanding a Python from the future."""
    copy = tmp_path / "aws_iot.py"
    copy.write_text(SCRIPT.read_text(encoding="utf-8").replace("MIN_PYTHON = (3, 9)", "MIN_PYTHON = (99, 0)"),
                    encoding="utf-8")
    done = subprocess.run([sys.executable, str(copy), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("aws_iot: Python 99.0 or newer is needed, this is ")
    assert len(done.stderr.splitlines()) == 1
