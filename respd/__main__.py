"""``python -m respd``: the server's command line, from any directory."""

import os
import sys

if getattr(sys.modules.get("respd"), "__file__", None) is None:
    # Run from a directory that holds a checkout named respd/: the current directory
    # comes first on sys.path, so that checkout shadowed the installed package as a
    # namespace package.  Drop the current directory and import the real one.
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    del sys.modules["respd"]

from respd.cli import main  # noqa: E402

sys.exit(main())
