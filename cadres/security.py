"""Security middlewares: the tenant of each request, the session clock, TOTP where required;
and the sign-in backend that reads the signed-in account for every request.

Calls to the REST API with an API token (``Authorization: Bearer …``) carry no session: the
session clock and TOTP leave them alone, and the tenant comes from the token's account.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms.utils import ErrorDict
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from cadres import rls
from cadres.authentication import token_for
from cadres.models import TenantSecurity, UnitUserPermission, User
from cadres.roles import Role
from cadres.services import audit

SESSION_STARTED = "_security_started"
SESSION_SEEN = "_security_seen"
SESSION_TOTP = "_security_totp_required"
# Recording every request's time would write the session on every page; a minute is enough.
SEEN_RESOLUTION = 60
TOTP_ROLES = (Role.AUTHORITY, Role.ORGANISATION)
TOKEN_KEYWORDS = (b"bearer", b"token")


class AccountBackend(ModelBackend):
    """Django's password sign-in, whose account comes with its tenant in the query that reads
    it for each request: every page reads the tenant (one query fewer a page).

    The account is read before the request's tenant is set for row-level security, so only
    what stands outside the wall may come with it: the tenant, not the cadre (read there, the
    cadre would be missing and the user's own pages refused).
    """

    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("tenant").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def is_api_request(request) -> bool:
    return request.path_info.startswith("/api/")


def is_token_request(request) -> bool:
    """An API call authenticated by its token alone: DRF never falls back to the session
    when the header names a token, and pages ignore the header (so it cannot skip a check)."""
    if not is_api_request(request):
        return False
    header = request.META.get("HTTP_AUTHORIZATION", "").encode("latin-1", "replace").split()
    return bool(header) and header[0].lower() in TOKEN_KEYWORDS


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _redirect(request, url: str):
    """A redirect a browser follows, and an htmx request turns into a full page load."""
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


# --- Sign-in ---


def totp_required_for(user) -> bool:
    """Whether the user's tenant requires TOTP and the user acts as authority or organisation."""
    if not user.is_authenticated or not user.tenant_id:
        return False
    with rls.tenant_scope(user.tenant_id):
        if not TenantSecurity.objects.filter(tenant_id=user.tenant_id, require_totp=True).exists():
            return False
    # Queried here rather than through roles.granted_units, which caches on the user object.
    return UnitUserPermission.objects.filter(
        user=user,
        permission__content_type__app_label="cadres",
        permission__codename__in=[role.value for role in TOTP_ROLES],
    ).exists()


def start_session(request, user) -> None:
    """Start the session clock and note whether the session needs a TOTP (on sign-in)."""
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now
    request.session[SESSION_TOTP] = totp_required_for(user)


def tenant_security_set(*, tenant, actor, require_totp: bool) -> TenantSecurity:
    """Turn the TOTP requirement of a tenant on or off; it applies from each next sign-in."""
    if not (actor.is_superuser or actor.tenant_id == tenant.pk):
        raise PermissionDenied(_("You may not change the security settings of this tenant."))
    with transaction.atomic():
        security, _created = TenantSecurity.objects.select_for_update().get_or_create(tenant=tenant)
        if security.require_totp != require_totp:
            security.require_totp = require_totp
            security.save(update_fields=["require_totp", "updated_at"])
            audit(
                tenant_id=tenant.pk,
                actor=actor,
                action="tenant_security_set",
                obj=tenant,
                detail={"require_totp": require_totp},
            )
    return security


def client_ip(request) -> str | None:
    """The client's address for django-axes: REMOTE_ADDR, or the address that the trusted
    proxies in front of the application appended to X-Forwarded-For."""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """django-axes: the sign-in page again, with the lockout explained, status 429."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    message = _(
        "Too many failed sign-in attempts. Signing in to this account from your address is "
        "locked for %(minutes)s minutes."
    ) % {"minutes": minutes}
    if is_api_request(request) or request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return JsonResponse({"status": 429, "code": "locked_out", "detail": message}, status=429)
    form = AuthenticationForm(request, data={"username": (credentials or {}).get("username", "")})
    form.cleaned_data = {}
    form._errors = ErrorDict({"__all__": form.error_class([message], error_class="nonfield")})
    next_url = request.POST.get("next", "") if request.method == "POST" else ""
    return render(request, "registration/login.html", {"form": form, "next": next_url}, status=429)


# --- Middlewares ---


def _token_scope(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(header) != 2:
        return rls.NO_TENANT
    token = token_for(header[1], request)
    return rls.scope_for(token.user) if token and token.user.is_active else rls.NO_TENANT


class TenantScopeMiddleware:
    """Row-level security: run the request as its user's tenant (nothing for anonymous)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not rls.is_enabled():
            return self.get_response(request)
        # Sessions, accounts and API tokens have no tenant column: readable before the scope.
        if is_token_request(request):
            scope = _token_scope(request)
        else:
            scope = rls.scope_for(request.user)
        with rls.tenant_scope(scope):
            return self.get_response(request)


class SessionLifetimeMiddleware:
    """Sign out a session idle for ``SESSION_IDLE_TIMEOUT`` seconds or older than
    ``SESSION_ABSOLUTE_LIFETIME`` seconds since sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_token_request(request) and request.user.is_authenticated:
            expired = self._check(request)
            if expired and not is_api_request(request):
                messages.info(request, _("Your session has ended. Please sign in again."))
                query = urlencode({"next": request.get_full_path()})
                return _redirect(request, f"{reverse(settings.LOGIN_URL)}?{query}")
        return self.get_response(request)

    @staticmethod
    def _check(request) -> bool:
        session = request.session
        now = int(time.time())
        started = session.get(SESSION_STARTED)
        seen = session.get(SESSION_SEEN, started)
        if started is None:  # a session from before these checks: its clock starts now
            session[SESSION_STARTED] = session[SESSION_SEEN] = now
            return False
        if (
            now - started > settings.SESSION_ABSOLUTE_LIFETIME
            or now - seen > settings.SESSION_IDLE_TIMEOUT
        ):
            logout(request)
            return True
        if now - seen >= SEEN_RESOLUTION:
            session[SESSION_SEEN] = now
        return False


class OTPRequiredMiddleware:
    """A session that needs a TOTP reaches nothing but setting one up or typing a code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_token_request(request) or not request.user.is_authenticated:
            return self.get_response(request)
        required = request.session.get(SESSION_TOTP)
        if required is None:  # a session from before these checks
            required = request.session[SESSION_TOTP] = totp_required_for(request.user)
        if not required or request.user.is_verified() or self._exempt(request):
            return self.get_response(request)
        if is_api_request(request):
            return JsonResponse(
                {
                    "status": 403,
                    "code": "otp_required",
                    "detail": _("Confirm your sign-in with a one-time code first."),
                },
                status=403,
            )
        query = urlencode({"next": request.get_full_path()})
        return _redirect(request, f"{reverse('otp_verify')}?{query}")

    @staticmethod
    def _exempt(request) -> bool:
        path = request.path_info
        allowed = {reverse("otp_setup"), reverse("otp_verify"), reverse("logout")}
        return path in allowed or path.startswith(settings.STATIC_URL) or path.startswith("/i18n/")
