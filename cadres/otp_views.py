"""Setting up and typing a TOTP (one-time code) after the password, where the tenant requires
it from the managing authority and the organisation department (cadres.security)."""

from base64 import b32encode
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from cadres.security import SESSION_TOTP
from cadres.services import audit

DEVICE_NAME = "cadreval"


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=gettext_lazy("Six-digit code"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": gettext_lazy("Type the six digits shown by the app.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self):
        return self.cleaned_data["token"].strip()


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _refused() -> str:
    return _("The code is not valid. Wait for a new one and try again.")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """First sign-in after the requirement: scan the key, type one code to confirm it."""
    user = request.user
    next_url = _next_url(request)
    if not request.session.get(SESSION_TOTP) or user.is_verified():
        return redirect(next_url)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        # A lost phone is reset by an administrator, never replaced by the session alone.
        return redirect(_with_next("otp_verify", next_url))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit(tenant_id=user.tenant_id, actor=user, action="totp_confirm", obj=user)
            otp_login(request, device)
            return redirect(next_url)
        if form.is_valid():
            form.add_error("token", _refused())
        status = 400
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - built by qrcode
        "secret": b32encode(device.bin_key).decode(),
        "uri": device.config_url,
    }
    return render(request, "registration/otp_setup.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    """Every sign-in of a session that needs it: type the code of the app."""
    user = request.user
    next_url = _next_url(request)
    if not request.session.get(SESSION_TOTP) or user.is_verified():
        return redirect(next_url)
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect(_with_next("otp_setup", next_url))
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            # django-otp doubles the wait after each wrong code; say so rather than "wrong".
            if not any(device.verify_is_allowed()[0] for device in devices):
                form.add_error(
                    "token", _("Too many wrong codes. Wait a little before trying again.")
                )
            else:
                token = form.cleaned_data["token"]
                device = next((d for d in devices if d.verify_token(token)), None)
                if device is not None:
                    otp_login(request, device)
                    return redirect(next_url)
                form.add_error("token", _refused())
        status = 400
    return render(
        request, "registration/otp_verify.html", {"form": form, "next": next_url}, status=status
    )
