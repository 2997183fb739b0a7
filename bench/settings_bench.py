"""The project's settings for gunicorn under the benchmarks, with STATIC_ROOT out of the tree.

``collectstatic`` writes the manifest that DEBUG=0 needs into BENCH_STATIC_ROOT (default
/tmp/cadreval-bench-static) instead of the project's staticfiles/; nothing else changes.
"""

import os
from pathlib import Path

from config.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", "/tmp/cadreval-bench-static"))
