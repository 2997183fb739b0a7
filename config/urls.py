from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from cadres import otp_views

admin.site.site_header = _("cadreval — quarterly evaluation of cadres")
admin.site.site_title = _("cadreval administration")

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Sign-in is locked after repeated failures by django-axes (its backend and middleware);
    # a session that needs a TOTP is sent to one of these two pages (cadres.security).
    path("accounts/otp/setup/", otp_views.otp_setup, name="otp_setup"),
    path("accounts/otp/verify/", otp_views.otp_verify, name="otp_verify"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("reports/", include("reporting.urls")),
    path("", include("cadres.urls")),
    path("", include("evaluation.urls")),
]
