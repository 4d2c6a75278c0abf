"""Launcher that PyInstaller freezes into the standalone `nudge-local` executable.

It does what the `nudge-local` console script does in a normal install.
"""

import sys

from nudge_local.cli import main

if __name__ == "__main__":
    sys.exit(main())
