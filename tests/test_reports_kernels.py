"""Report kernels talk over Unix sockets with unique names (kpilib.reports.kernels).

With TCP, kernels started at the same moment could pick the same "free" port (jupyter_client
issue #487) and hang; these tests prove the kernels kpilib starts do not use TCP at all.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from kpilib.reports.kernels import IpcKernelManager, papermill_kernel_args
from kpilib.reports.runner import Job, execute_job, kernel_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="zmq has no ipc on Windows")

SHOW_CONNECTION = (
    "import json\nfrom ipykernel.connect import get_connection_file\n"
    "info = json.load(open(get_connection_file()))\n"
    "print(json.dumps({'transport': info['transport'], 'ip': info['ip']}))"
)


def test_each_manager_gets_its_own_socket_prefix_in_the_temp_folder():
    a, b = IpcKernelManager(), IpcKernelManager()
    assert a.transport == b.transport == "ipc"
    assert a.ip != b.ip
    for km in (a, b):
        assert Path(km.ip).parent == Path(tempfile.gettempdir())
        assert Path(km.ip).name.startswith("kpilib-kernel-")
    assert papermill_kernel_args() == {"kernel_manager_class": IpcKernelManager}


def test_report_job_kernel_uses_ipc_and_leaves_no_socket_files(tmp_path, monkeypatch):
    for name in ("JUPYTER_PATH", "PYDEVD_DISABLE_FILE_VALIDATION"):
        monkeypatch.delenv(name, raising=False)  # execute_job sets them: undone after the test
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(SHOW_CONNECTION)]
    src = tmp_path / "show.ipynb"
    nbformat.write(nb, str(src))
    job = Job("show", str(src), str(tmp_path / "out" / "show.ipynb"),
              str(tmp_path / "out" / "show.html"), parameters={})

    result = execute_job(job, kernel_env(tmp_path / "kernels"))

    assert result.status == "ok", result.error
    text = nbformat.read(result.ipynb, as_version=4).cells[0].outputs[0]["text"]
    info = json.loads(text)
    assert info["transport"] == "ipc"
    prefix = Path(info["ip"])
    assert prefix.name.startswith("kpilib-kernel-")
    assert not list(prefix.parent.glob(prefix.name + "*"))  # sockets removed at shutdown


class _FlakyPapermill:
    """Stands in for papermill: the first ``hangs`` runs time out, then a run succeeds."""

    def __init__(self, hangs: int) -> None:
        self.hangs, self.calls = hangs, 0

    def execute_notebook(self, *args, **kwargs) -> None:
        from nbclient.exceptions import CellTimeoutError

        self.calls += 1
        if self.calls <= self.hangs:
            raise CellTimeoutError("A cell timed out while it was being executed: cell 7")


def test_refresh_restarts_a_silent_kernel_and_warns_which_cell(tmp_path):
    from kpilib.reports.refresh import _execute

    pm = _FlakyPapermill(hangs=2)
    with pytest.warns(RuntimeWarning) as caught:
        _execute(pm, tmp_path / "nb.ipynb", tmp_path / "out.ipynb")
    assert pm.calls == 3                      # two time-outs, then the run that worked
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    for message, run in zip(messages, (2, 3), strict=True):
        assert message.startswith("refresh: nb.ipynb: the kernel stopped answering "
                                  "(CellTimeoutError: A cell timed out")
        assert "cell 7" in message and f"restarting it (run {run} of 3)" in message


def test_refresh_gives_up_after_the_last_attempt(tmp_path):
    from nbclient.exceptions import CellTimeoutError

    from kpilib.reports.refresh import _execute

    pm = _FlakyPapermill(hangs=3)
    with pytest.warns(RuntimeWarning), pytest.raises(CellTimeoutError):
        _execute(pm, tmp_path / "nb.ipynb", tmp_path / "out.ipynb")
    assert pm.calls == 3
