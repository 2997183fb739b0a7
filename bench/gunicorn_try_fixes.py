"""gunicorn settings for ``--try-fixes``: each worker applies the changes of bench/try_fixes.py
once it has loaded the application, so the benchmarks measure them under the same load."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def post_worker_init(worker):
    import try_fixes
    from django.urls import get_resolver

    len(get_resolver().url_patterns)  # import every view first, so that each sees the changes
    worker.try_fixes = try_fixes.apply_all()  # kept open for the worker's life
