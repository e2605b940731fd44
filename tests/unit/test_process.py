"""Playbook processes end without Python's last garbage collection (it cost the kernel 0.8 s
a run), and everything registered to run at exit still runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# An exit handler registered first runs last: it sees what the playbook's handler did.
PROBE = """
import atexit, gc, pathlib, tempfile, weakref
folder = pathlib.Path(tempfile.mkdtemp())
class Holder: pass
holder = Holder()
import shutil
weakref.finalize(holder, shutil.rmtree, folder)
atexit.register(lambda: print("frozen" if gc.get_freeze_count() else "not frozen", folder))
{importing}
"""


@pytest.mark.parametrize(
    "importing",
    [
        "import pilot2prod.notebook",
        "from pilot2prod.cli import main; main(['list']); main(['list'])",
    ],
)
def test_playbook_processes_skip_the_last_collection_and_still_clean_up(importing):
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(importing=importing)],
        capture_output=True,
        text=True,
        check=True,
    )
    state, folder = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert state == "frozen"
    assert not Path(folder).exists()  # weakref.finalize still ran
