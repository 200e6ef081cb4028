import sys

from hyperontology.cli.main import main

sys.exit(main())
