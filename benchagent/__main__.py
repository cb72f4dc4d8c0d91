import sys

from benchagent.cli import main

sys.exit(main())
