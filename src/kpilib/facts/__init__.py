"""Entity-level fact tables (one row per commit unit, order, line, slice, shipment...).

``kpilib.facts`` is both this package (the fact builders live in its modules) and the public
function of api.md, ``kpilib.facts(ds, "<fact name>")``: the module object is made callable
and forwards to :func:`kpilib.engine.facts`. Without this, importing ``kpilib.facts.<module>``
would shadow the function on the ``kpilib`` namespace.
"""

from __future__ import annotations

import sys
import types


class _CallableModule(types.ModuleType):
    def __call__(self, ds, name: str, **kwargs):
        from kpilib.engine import facts

        return facts(ds, name, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
