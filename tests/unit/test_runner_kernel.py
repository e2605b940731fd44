"""The kernel a run starts before papermill loads: it runs in the run's working folder, and it
is gone after the run, whether it was asked to stop early or not, and when the run fails."""

from __future__ import annotations

import os

import pytest
from jupyter_core.utils import run_sync

from pilot2prod.runner import started_kernel, stop_soon


@pytest.mark.parametrize("early", [True, False])
def test_kernel_runs_in_the_folder_and_is_gone_afterwards(tmp_path, early):
    with started_kernel(tmp_path) as kernel:
        client = kernel.client()
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=60)
        printed: list[str] = []

        def keep(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])

        run_sync(client.execute_interactive)(
            "import os; print(os.getcwd(), os.getpid())", output_hook=keep, timeout=60
        )
        cwd, pid = "".join(printed).split()
        assert os.path.samefile(cwd, tmp_path)
        if early:
            stop_soon(kernel)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)


def test_kernel_is_gone_when_the_run_fails(tmp_path):
    with pytest.raises(RuntimeError), started_kernel(tmp_path) as kernel:
        assert run_sync(kernel.is_alive)()
        pid = kernel.provisioner.process.pid
        raise RuntimeError("the notebook failed")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_kernel_that_died_is_cleaned_up(tmp_path):
    """A kernel killed mid-run (out of memory, say): leaving the context does not fail."""
    import signal

    with pytest.raises(RuntimeError), started_kernel(tmp_path) as kernel:
        process = kernel.provisioner.process
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        raise RuntimeError("the kernel died")
    assert not run_sync(kernel.is_alive)()
