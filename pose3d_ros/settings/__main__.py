"""
``python -m pose3d_ros.settings [--check]``: write the files generated from the settings.

Writes ``config/pose3d.yaml`` and the parameter table of ``docs/node.md`` in the source
tree from the settings declarations; ``--check`` writes nothing and exits 1 when either
differs from what it would write.
"""

import argparse
from pathlib import Path
import sys
from typing import Dict, List, Optional

from .surfaces import markdown_table, with_table, yaml_text
from ..node.config import NODE_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
YAML_FILE = ROOT / 'config' / 'pose3d.yaml'
DOCS_FILE = ROOT / 'docs' / 'node.md'


def generated() -> Dict[Path, str]:
    """Return each generated file's path and the text it should have."""
    return {YAML_FILE: yaml_text(NODE_SETTINGS),
            DOCS_FILE: with_table(DOCS_FILE.read_text(), markdown_table(NODE_SETTINGS))}


def main(argv: Optional[List[str]] = None) -> int:
    """Write (or with ``--check`` compare) the generated files; return the exit status."""
    parser = argparse.ArgumentParser(prog='python -m pose3d_ros.settings',
                                     description=__doc__.strip().splitlines()[0])
    parser.add_argument('--check', action='store_true',
                        help='compare only; exit 1 when a file differs')
    args = parser.parse_args(argv)
    if not (ROOT / 'package.xml').is_file():
        print(f'error: {ROOT} is not the source tree (no package.xml): the generated files '
              'live in a checkout of the repository', file=sys.stderr)
        return 2
    stale = [path for path, text in generated().items() if path.read_text() != text]
    if args.check:
        for path in stale:
            print(f'{path} differs from the settings declarations', file=sys.stderr)
        return 1 if stale else 0
    for path, text in generated().items():
        path.write_text(text)
    print(f'wrote {len(stale)} changed file(s): ' +
          (', '.join(str(p.relative_to(ROOT)) for p in stale) or 'none'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
