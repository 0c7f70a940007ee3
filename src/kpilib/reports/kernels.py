"""How papermill's kernels talk to it: Unix sockets, not TCP ports (where the OS has them).

Rule: on POSIX, every kernel kpilib starts uses zmq's ``ipc`` transport, with socket files
named after a fresh random id in the temp folder. With the default ``tcp`` transport each
kernel manager picks five "free" ports by binding and releasing them, then the kernel binds
them: kernels started at the same moment by parallel report jobs (or pytest-xdist workers)
can pick the same port (jupyter_client issue #487), and the kernel then dies or a cell never
answers. Socket files with distinct random names cannot collide. The ipc sockets are removed
when the kernel shuts down. On Windows, where zmq has no ``ipc``, kernels keep ``tcp``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import default


class IpcKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` (nbclient's default) whose kernels use ``ipc`` sockets."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        # jupyter_client's own default is "kernel-ipc" in the working folder, shared by every
        # kernel started there: a unique prefix per kernel is the point of this class
        return os.path.join(tempfile.gettempdir(), f"kpilib-kernel-{uuid.uuid4().hex[:16]}")


def papermill_kernel_args() -> dict[str, Any]:
    """Extra ``papermill.execute_notebook`` arguments that select the kernel transport."""
    if sys.platform == "win32":
        return {}
    return {"kernel_manager_class": IpcKernelManager}
