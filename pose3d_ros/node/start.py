"""
The ``pose3d_node`` executable: glibc's malloc is set before rclpy starts its threads.

Importing rclpy (and torch) starts threads, and each may create a malloc arena of its own.
A thread started later can be handed one of those arenas, whose large blocks bypass the
heap that :mod:`pose3d_ros.malloc_settings` keeps; the node's compute thread is such a
thread. So this module applies the settings first and imports the node module, which
imports rclpy, only after them.
"""

from typing import List, Optional

from ..malloc_settings import keep_freed_memory


def main(args: Optional[List[str]] = None) -> None:
    """Apply the malloc settings, then run the node until Ctrl-C or an external shutdown."""
    freed_memory_kept = keep_freed_memory()
    from .node import main as run_node  # after the settings: see the module docstring
    run_node(args, freed_memory_kept)


if __name__ == '__main__':
    main()
