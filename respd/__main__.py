import sys

from respd.cli import main

sys.exit(main())
