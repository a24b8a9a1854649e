import sys

from simulators.microsoft.cli import main

sys.exit(main(sys.argv[1:]))
