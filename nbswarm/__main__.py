"""``python -m nbswarm``: the same as the ``nbswarm`` command."""

import sys

from .cli import main

sys.exit(main())
