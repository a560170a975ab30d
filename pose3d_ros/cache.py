"""Where pose3d_ros keeps downloaded files: one override variable, else the XDG cache."""

import os
from pathlib import Path


def cache_dir(kind: str, override_variable: str) -> Path:
    """Return ``$override_variable`` if set, else ``$XDG_CACHE_HOME/pose3d_ros/<kind>``."""
    if os.environ.get(override_variable):
        return Path(os.environ[override_variable]).expanduser()
    root = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(root) / 'pose3d_ros' / kind
