"""Environment llama.cpp must see before its library is loaded. Import this before `llama_cpp`.

The llama-cpp-python build uses OpenMP, whose threads spin at every barrier by default
(hundreds of barriers per token). When another process holds a core, a spinning thread
waits for a descheduled one a whole time slice at each barrier: measured here with a second
busy process, SmolLM2 fell from ~40 to ~2 tokens/s, while with passive waiting it kept
26-44 tokens/s. libgomp reads the variable once, when it is loaded (at `import llama_cpp`),
so it is set here, on import, unless the user already chose a value.
"""

from __future__ import annotations

import os
import sys

_CHOSEN_BY_USER = "OMP_WAIT_POLICY" in os.environ
OMP_WAIT_POLICY = os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# llama_cpp was imported before this module: the policy above came too late to take effect.
LOADED_TOO_EARLY = not _CHOSEN_BY_USER and "llama_cpp" in sys.modules
