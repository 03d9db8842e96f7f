"""`python -m studies.run NAME ...`: the command every study runs with; the CLI itself is `studies.cli.main`."""

import sys

from studies.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
