"""Routes of the REST API under /api/: resources, the OpenAPI schema and its documentation."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from cadres import api as cadres_api
from evaluation import api as evaluation_api

router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False  # no ".json" twins of the routes
router.include_root_view = False
router.register("units", cadres_api.UnitViewSet, basename="api-unit")
router.register("cadres", cadres_api.CadreViewSet, basename="api-cadre")
router.register("positions", cadres_api.PositionViewSet, basename="api-position")
router.register("assignments", cadres_api.AssignmentViewSet, basename="api-assignment")
router.register("absences", cadres_api.AbsenceViewSet, basename="api-absence")
router.register("tokens", cadres_api.ApiTokenViewSet, basename="api-token")
router.register("periods", evaluation_api.PeriodViewSet, basename="api-period")
router.register(
    "catalogue/versions", evaluation_api.CatalogueVersionViewSet, basename="api-catalogue-version"
)
router.register(
    "catalogue/items", evaluation_api.CatalogueItemViewSet, basename="api-catalogue-item"
)
router.register("collectives", evaluation_api.CollectiveViewSet, basename="api-collective")
router.register("quota-groups", evaluation_api.QuotaGroupViewSet, basename="api-quota-group")
router.register("evaluations", evaluation_api.EvaluationViewSet, basename="api-evaluation")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", template_name="api/docs.html"),
        name="api-docs",
    ),
    path("", include(router.urls)),
]
