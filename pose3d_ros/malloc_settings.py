"""
Keep freed memory in the process: glibc malloc settings for a loop over frames.

Every frame allocates the same large tensors (the detector's activations for 15-19 views
are tens of MB each) and frees them again. With glibc's defaults, blocks above the mmap
threshold (dynamic, at most 32 MB) are returned to the kernel when freed, and threads other
than the main one allocate from arenas of at most 64 MB, where such blocks do not fit either.
The next frame then faults the same memory in again, zero-filled by the kernel, page by
page. On a 2-core CPU, keeping it made the estimator with PyTorch 6-33 % faster
(``bench/where_time_goes.py`` against ``--default-malloc``; docs/performance.md).

:func:`keep_freed_memory` makes large blocks come from the one main heap and keeps what is
freed there for reuse. The process's peak memory is the same; it is only kept. It changes
the whole process, so the package's programs (the node, ``pose3d-estimate``, the benchmarks)
call it at start-up, and the estimator itself does not: a program that embeds the
estimator can call it likewise.
"""

import ctypes
import functools

# Parameter numbers of mallopt(3), glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

#: (parameter, value): one arena for every thread; blocks up to 1 GiB from the heap, not
#: mmap; never give the heap's free top back to the kernel.
SETTINGS = ((M_ARENA_MAX, 1), (M_MMAP_THRESHOLD, 1 << 30), (M_TRIM_THRESHOLD, (1 << 31) - 1))


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """
    Apply :data:`SETTINGS` through glibc's ``mallopt``; False where that is not possible.

    Call it before the process starts its threads (an arena, once a thread has one, stays).
    Other C libraries (musl, macOS) have no ``mallopt`` and are left as they are.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(mallopt(parameter, value) == 1 for parameter, value in SETTINGS)
