import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What is loaded now (apps, models, the URLs and their views) lives as long as the worker:
# frozen, the collector's full passes skip it and walk only what requests made (a full pass
# took 60–80 ms in a board worker, 1–7 ms frozen; bench/README.md, seventh session).
get_resolver().url_patterns  # noqa: B018 (imports the URLconf and the views)
gc.freeze()
