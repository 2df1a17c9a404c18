"""Compiled kernels: the one place numba is imported.

A few hot loops (exact window searches, the FIT message walk) are written as plain Python loops
and compiled by numba, because numpy cannot express them without a Python-level loop per step
(see each kernel's docstring for its measured reason). numba is imported and a kernel compiled,
or loaded from numba's on-disk cache, on the kernel's first call: importing runhub stays cheap,
and only a process that runs a kernel pays numba's start-up (about a second, once).

A kernel calls only kernels of its own module: numba's on-disk cache is invalidated by a change to
the kernel's own file only, so a kernel from another file could run stale after an edit there (numba's
caching notes, "Cache invalidation"). A small helper two modules need is written in each.

`NUMBA_DISABLE_JIT=1` runs every kernel as the plain Python it is written in (for debugging).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def kernel(fn: F) -> F:
    """Compile `fn` with numba (nopython, cached on disk, GIL released) on its first call. A kernel
    may call other kernels of its module: they are compiled first."""

    @functools.wraps(fn)
    def first_call(*args: Any) -> Any:
        return _compile(fn)(*args)

    first_call._runhub_kernel = fn  # type: ignore[attr-defined]
    return first_call  # type: ignore[return-value]


def _compile(fn: Callable[..., Any]) -> Any:
    import numba

    current = fn.__globals__.get(fn.__name__)
    if current is not None and getattr(current, "_runhub_kernel", None) is None:
        return current  # compiled already (the module global is the dispatcher now)
    for name in fn.__code__.co_names:  # kernels this one calls must be dispatchers when it compiles
        dep = getattr(fn.__globals__.get(name), "_runhub_kernel", None)
        if dep is not None and dep is not fn:
            _compile(dep)
    compiled = numba.njit(cache=True, nogil=True)(fn)
    # later calls, and kernels compiled after this one, find the dispatcher under the same name
    fn.__globals__[fn.__name__] = compiled
    return compiled
