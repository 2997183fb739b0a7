"""Per-user API tokens for other systems: issue, revoke, authenticate, throttle.

A token is shown once when it is created; the database keeps only its SHA-256 hash (a random
256-bit secret needs no slow hash), so a leaked database does not leak usable tokens.
"""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling
from rest_framework.settings import api_settings

from cadres.models import ApiToken, Tenant, User
from cadres.roles import Role, granted_units
from cadres.services import audit
from config.compiled_query import CompiledQuery, attnames, instances

TOKEN_PREFIX = "cvl_"
KEYWORDS = ("bearer", "token")
# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_for(raw: str, request=None) -> ApiToken | None:
    """The unrevoked token with this value, with its user and tenant; read once a request (the
    row-level security middleware reads it for the tenant before the view authenticates)."""
    key_hash = _hash(raw)
    request = getattr(request, "_request", request)  # DRF's request wraps Django's
    found = getattr(request, "_api_token", None)
    if found is not None and found[0] == key_hash:
        return found[1]
    token = None
    for row in _TOKEN.rows(key_hash=key_hash):
        token, user, tenant = instances(row, ApiToken, User, Tenant)
        user.tenant, token.user = tenant, user
    if request is not None:
        request._api_token = (key_hash, token)
    return token


# Read by every API call (config/compiled_query.py says why); an account of no tenant (the
# central commission's) comes with none.
_TOKEN = CompiledQuery(
    lambda key_hash: (
        ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True)
        .order_by("pk")
        .values_list(
            *attnames(ApiToken),
            *(f"user__{name}" for name in attnames(User)),
            *(f"user__tenant__{name}" for name in attnames(Tenant)),
        )[:1]
    )
)


def is_tenant_administrator(user) -> bool:
    """Whether the user administers some unit of their tenant (as in the Django admin)."""
    return bool(
        user.is_authenticated and user.tenant_id and granted_units(user, Role.ADMINISTRATOR)
    )


def may_manage_tokens_of(actor, owner) -> bool:
    """The owner manages their own tokens; a tenant administrator manages every account's."""
    if not actor.is_authenticated:
        return False
    if actor.pk == owner.pk:
        return True
    return owner.tenant_id == actor.tenant_id and is_tenant_administrator(actor)


def api_token_create(*, user: User, actor: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token for ``user``; the raw token is returned here and never again."""
    if not may_manage_tokens_of(actor, user):
        raise PermissionDenied(_("You may not create tokens for this account."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the token after the system that will use it.")})
    if not user.is_active:
        raise ValidationError({"user": _("This account is disabled.")})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=raw[: len(TOKEN_PREFIX) + 6], key_hash=_hash(raw))
    token.created_by = actor
    token.full_clean(exclude=["key_hash", "prefix"])
    with transaction.atomic():
        token.save()
        audit(
            tenant_id=user.tenant_id,
            actor=actor,
            action="api_token_create",
            obj=token,
            detail={"user": user.username},
        )
    return token, raw


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke a token at once; revoking twice changes nothing."""
    if not may_manage_tokens_of(actor, token.user):
        raise PermissionDenied(_("You may not revoke this token."))
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor
        )
        if updated:
            audit(
                tenant_id=token.user.tenant_id,
                actor=actor,
                action="api_token_revoke",
                obj=token,
                detail={"user": token.user.username},
            )
    token.refresh_from_db()
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` or ``Authorization: Token <token>``."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Give the token after the keyword."))
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from exc
        return self.authenticate_token(raw, request)

    def authenticate_token(self, raw: str, request=None):
        token = token_for(raw, request)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token is not valid or was revoked."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiTokenRateThrottle(throttling.SimpleRateThrottle):
    """Requests per token (``DEFAULT_THROTTLE_RATES["api_token"]``); sessions are not counted."""

    scope = "api_token"

    def get_rate(self):
        # Read at call time, not import time, so that a changed setting takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cadres.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": _(
                "A personal API token: `Authorization: Bearer <token>` "
                "(`Authorization: Token <token>` is accepted too)."
            ),
        }
