"""
Keep freed memory in the process: glibc malloc settings for a loop over frames.

Every frame allocates the same large tensors (the detector's activations for 15-19 views
are tens of MB each) and frees them again. With glibc's defaults, blocks above the mmap
threshold (dynamic, at most 32 MB) are returned to the kernel when freed, and threads other
than the main one allocate from arenas of at most 64 MB, where such blocks do not fit either.
The next frame then faults the same memory in again, zero-filled by the kernel, page by
page. On a shared 2-core CPU the estimator with PyTorch took 6-33 % less time with the
memory kept (``bench/where_time_goes.py`` against ``--default-malloc``, five pairs of runs;
docs/performance.md).

:func:`keep_freed_memory` makes large blocks come from the one main heap and keeps what is
freed there for reuse. The process then holds about its peak memory between frames rather
than less. It changes the whole process, so the package's programs call it at start-up
and the estimator itself does not: the node before rclpy and torch start threads
(:mod:`pose3d_ros.node.start`), ``pose3d-estimate`` and the benchmarks once their imports
are done, which is enough because they run the estimator on the main thread, whose arena
is the heap kept. A program that embeds the estimator can call it likewise.
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
    Apply :data:`SETTINGS` through glibc's ``mallopt``; True when every one was accepted.

    Call it before the process starts its threads (an arena, once a thread has one, stays).
    Each setting is tried on its own: some older glibc releases refuse an mmap threshold
    above 32 MiB, and the other two still help. Other C libraries (musl, macOS, Windows)
    have no ``mallopt`` and are left as they are.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # TypeError: Windows takes no None
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    accepted = [mallopt(parameter, value) == 1 for parameter, value in SETTINGS]
    return all(accepted)
