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
