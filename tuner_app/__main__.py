"""`python -m tuner_app` opens the desktop window (the headless search is `python -m tuner_app.search`)."""

import sys

from tuner_app.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
