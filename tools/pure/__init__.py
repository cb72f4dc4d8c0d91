"""Built-in pure tools; importing this package registers every one of them.

Each submodule registers its tools into `tools.registry.default_registry` at
import time. Submodules are discovered (sorted by name), so a new module such as
`audio_mix.py` is picked up without editing this file. `default_registry`
imports this package lazily the first time it is asked for a tool.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.ispkg):
    if not _module.startswith("_"):
        importlib.import_module(f"{__name__}.{_module}")
