"""config.wsgi: a worker loads the URLs and views, then freezes what it loaded out of the
collector's full passes."""

import gc
import sys


def test_the_worker_loads_its_views_then_freezes_them():
    from config.wsgi import application

    assert callable(application)
    assert "evaluation.views" in sys.modules and "config.urls" in sys.modules
    assert gc.get_freeze_count() > 10_000
