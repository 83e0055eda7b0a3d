"""How many threads NumPy's BLAS (the matrix multiplications) may use, set while the program runs.

NumPy's wheels ship OpenBLAS, which starts one thread per core. On the tiny models lmtoy
trains the threads gain nothing, and on a busy machine they spin and wait for each other
(a 1-second run took 10). ``set_blas_threads`` changes the count of the OpenBLAS numpy
loaded, by calling its ``openblas_set_num_threads`` (whatever prefix or suffix the build
gives it: ``scipy_openblas_set_num_threads64_`` in numpy 2's wheels) through ctypes. The
library is found in /proc/self/maps (Linux) or beside numpy (``numpy.libs``, ``.dylibs``).
Without OpenBLAS (MKL, Accelerate, BLIS) it uses threadpoolctl when that is installed, and
otherwise does nothing and says so by returning None. ``before_numpy`` sets the environment
variables the BLAS libraries read at start-up, which works only before numpy is imported.

Pure standard library: nothing here imports numpy until numpy has been imported already.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

ENV_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_NAMES = ("openblas_{}_num_threads", "openblas_{}_num_threads64_", "scipy_openblas_{}_num_threads64_",
          "scipy_openblas_{}_num_threads")  # fmt: skip
_state: dict = {}  # "functions": (get, set) or None; "initial": the count the BLAS started with


def before_numpy(n: int) -> bool:
    """Ask for ``n`` BLAS threads through the environment; True when numpy is not loaded yet
    (so the BLAS will read it), False when it is too late for this way."""
    if "numpy" in sys.modules:
        return False
    for name in ENV_VARIABLES:
        os.environ[name] = str(n)
    return True


def threads_from_environment() -> bool:
    """True when the user set OPENBLAS_NUM_THREADS or OMP_NUM_THREADS (their count is kept)."""
    return any(os.environ.get(name) for name in ENV_VARIABLES[:2])


def blas_threads() -> int | None:
    """The threads NumPy's BLAS uses now; None when it cannot be told."""
    functions = _openblas()
    if functions is not None:
        return int(functions[0]())
    limits = _threadpoolctl()
    if limits is None:
        return None
    counts = [info["num_threads"] for info in limits.threadpool_info() if info.get("user_api") == "blas"]
    return max(counts) if counts else None


def set_blas_threads(n: int | None) -> int | None:
    """Let NumPy's BLAS use ``n`` threads (None: as many as it started with).

    Returns the count now in effect, or None when there is no way to set it (then nothing
    changed). Threads are process-wide: the count holds until it is set again.
    """
    if _state.get("initial") is None:
        _state["initial"] = blas_threads()
    n = _state["initial"] if n is None else n
    if n is None:
        return None
    functions = _openblas()
    if functions is not None:
        functions[1](int(n))
        return int(functions[0]())
    limits = _threadpoolctl()
    if limits is None:
        return None
    limits.threadpool_limits(limits=int(n), user_api="blas")  # applied at once, kept (no `with`)
    return blas_threads()


def _openblas():  # -> (get, set) ctypes functions of the OpenBLAS numpy loaded, or None
    if "functions" not in _state:
        if "numpy" not in sys.modules:
            return None  # not loaded yet: nothing to set (and not cached: it may load later)
        _state["functions"] = next(filter(None, map(_functions, _candidates())), None)
    return _state["functions"]


def _candidates():  # -> iterator of library paths that may be numpy's OpenBLAS
    try:
        with open("/proc/self/maps") as maps:
            loaded = {line.split(maxsplit=5)[-1].strip() for line in maps if "openblas" in line.lower()}
        yield from sorted(path for path in loaded if path.startswith("/"))
    except OSError:
        pass  # not Linux
    numpy_dir = Path(sys.modules["numpy"].__file__).parent
    for folder in (numpy_dir.parent / "numpy.libs", numpy_dir / ".dylibs", numpy_dir.parent / "scipy_openblas64" / "lib"):
        if folder.is_dir():
            yield from sorted(str(p) for p in folder.iterdir() if "openblas" in p.name.lower())


def _functions(path: str):  # -> (get, set) or None
    try:
        library = ctypes.CDLL(path)  # already loaded by numpy: the same copy, not a second one
    except OSError:
        return None
    for name in _NAMES:
        get, set_ = (getattr(library, name.format(verb), None) for verb in ("get", "set"))
        if get is not None and set_ is not None:
            get.restype, get.argtypes = ctypes.c_int, []
            set_.restype, set_.argtypes = None, [ctypes.c_int]
            return get, set_
    return None


def _threadpoolctl():  # -> the threadpoolctl module, or None when it is not installed
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl
