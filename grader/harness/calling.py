"""``invoke(module, "name", *args)``: call a function of the module under test by name.

The same as ``getattr(module, name)(*args)``. When the module lives in the judge's subject
process (a ``RemoteObject``, whose type offers ``_judge_invoke``), the lookup and the call
are one round trip instead of two: hidden tests that make hundreds of direct calls
(property-based ones) pay half the wire.
"""

from __future__ import annotations

from typing import Any


def invoke(target: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """``getattr(target, name)(*args, **kwargs)``, in one round trip for a remote module."""
    direct = getattr(type(target), "_judge_invoke", None)
    if direct is not None:
        return direct(target, name, args, kwargs)
    return getattr(target, name)(*args, **kwargs)
