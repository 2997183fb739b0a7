"""Routes of the REST API under /api/."""

urlpatterns = []
