"""The kernel a run starts before papermill loads: it runs in the run's working folder, and it
is gone after the run, whether it was asked to stop early or not, and when the run fails."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from jupyter_core.utils import run_sync

from pilot2prod import runner
from pilot2prod.runner import started_kernel, stop_soon


def printed(kernel, code: str) -> str:
    """What ``code`` prints, run in ``kernel``."""
    client = kernel.client()
    client.start_channels()
    run_sync(client.wait_for_ready)(timeout=60)
    out: list[str] = []

    def keep(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    run_sync(client.execute_interactive)(code, output_hook=keep, timeout=60)
    return "".join(out)


@pytest.mark.parametrize("early", [True, False])
def test_kernel_runs_in_the_folder_and_is_gone_afterwards(tmp_path, early):
    with started_kernel(tmp_path) as kernel:
        cwd, pid = printed(kernel, "import os; print(os.getcwd(), os.getpid())").split()
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


def test_the_kernel_imports_what_it_is_told_while_it_boots_and_binds_no_name(tmp_path):
    """The chapter's modules are imported before the first cell runs; the notebook's namespace
    gets nothing from it (a stray name there could hide a missing import)."""
    with started_kernel(tmp_path, ["pilot2prod.audit"]) as kernel:
        seen = printed(
            kernel,
            "import sys\n"
            "print(sorted(m for m in ('pilot2prod.audit.result', 'ibis.backends.duckdb')"
            " if m in sys.modules), [n for n in ('pilot2prod', 'ibis') if n in globals()])",
        )
    assert seen.strip() == "['ibis.backends.duckdb', 'pilot2prod.audit.result'] []"


def test_the_kernel_starts_loading_the_runs_files_before_it_imports(tmp_path):
    """The chapter is handed the run's parameters while the kernel boots: the audit's file is
    being loaded into DuckDB before the first cell runs, and the first cell takes that copy."""
    path = tmp_path / "export.csv"
    path.write_text("id,amount\n1,2.5\n2,3.5\n", encoding="utf-8")
    with started_kernel(tmp_path, ["pilot2prod.audit"], {"sources": str(path)}) as kernel:
        seen = printed(
            kernel,
            "from pilot2prod.sources import loading, estate_connection, open_source, SourceSpec\n"
            "pending = sorted(k[0][0] for k in loading._prefetched.loads)\n"
            "con = estate_connection()\n"
            f"opened = open_source(SourceSpec('export.csv', {str(path)!r}, 'csv'), con)\n"
            "tables = con.con.execute('SHOW TABLES').fetchall()\n"
            "print(pending == [str(__import__('pathlib').Path("
            f"{str(path)!r}).resolve())], con.con is loading._prefetched.database, len(tables),"
            " opened[0].table.count().execute())",
        )
    assert seen.split() == ["True", "True", "1", "2"]


#: Run in the kernel: its control thread, having answered the shutdown request (the kernel's
#: loops are told to stop), pauses before its closing flush of standard output, so that the
#: kernel's main thread reaches its exit first: the order of the race in ipykernel (7.4) that
#: made about one run in ten wait 2.5 s and end with the kernel terminated. The IOPub thread
#: notes, as it stops, whether the control thread is still running.
SLOW_CONTROL_THREAD = """
import time
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
answer = app.kernel.control_handlers["shutdown_request"]
async def answer_then_pause(*args, answer=answer, sleep=time.sleep, **kwargs):
    await answer(*args, **kwargs)
    sleep(0.5)
app.kernel.control_handlers["shutdown_request"] = answer_then_pause
iopub_loop = app.iopub_thread.io_loop
stop_iopub = iopub_loop.stop
def note_then_stop(control=app.control_thread, stop=stop_iopub):
    # The defaults keep what it needs: the notebook's namespace is cleared at exit.
    with open("control-alive-at-iopub-stop", "w") as note:
        note.write(str(control.is_alive()))
    stop()
iopub_loop.stop = note_then_stop
print("patched")
"""


def test_the_kernel_exits_by_itself_when_its_control_thread_is_slow_to_finish(tmp_path):
    """The control thread has finished when the IOPub thread stops, and the kernel ends on its
    own (exit status 0) instead of being terminated (see
    :func:`pilot2prod.kernel.orderly_exit`)."""
    with started_kernel(tmp_path) as kernel:
        process = kernel.provisioner.process
        assert printed(kernel, SLOW_CONTROL_THREAD).strip() == "patched"
        stop_soon(kernel)
    assert process.wait(timeout=10) == 0
    assert (tmp_path / "control-alive-at-iopub-stop").read_text() == "False"


def test_the_run_talks_to_its_kernel_over_private_unix_sockets(tmp_path):
    """Not TCP on loopback, which every local user can reach: Unix sockets in a folder only the
    run's user can open, removed with the kernel."""
    with started_kernel(tmp_path) as kernel:
        private = Path(kernel.connection_file).parent
        assert kernel.transport == "ipc" and Path(kernel.ip).parent == private
        assert stat.S_IMODE(private.stat().st_mode) & 0o077 == 0  # its user only
        assert printed(kernel, "print(6 * 7)").strip() == "42"
        sockets = [p for p in private.iterdir() if p.is_socket()]
        assert len(sockets) == 5  # shell, IOPub, stdin, control, heartbeat
    assert not private.exists()


def test_a_temporary_folder_too_deep_for_socket_names_falls_back_to_tcp(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "SOCKET_PATH_LIMIT", 10)
    with started_kernel(tmp_path) as kernel:
        private = Path(kernel.connection_file).parent
        assert kernel.transport == "tcp"
        assert printed(kernel, "print(6 * 7)").strip() == "42"
    assert not private.exists()


def test_the_private_folder_is_removed_when_the_kernel_cannot_start(tmp_path, monkeypatch):
    made: list[str] = []
    real = tempfile.mkdtemp

    def recording_mkdtemp(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    with pytest.raises(OSError), started_kernel(tmp_path / "no such folder"):
        pass
    assert made and not Path(made[0]).exists()
