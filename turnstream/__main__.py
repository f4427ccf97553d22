import sys

from turnstream.cli import main

sys.exit(main())
