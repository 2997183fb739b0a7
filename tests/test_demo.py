"""The demo organisation: every role is held by someone and signs in to a Vietnamese home."""

import pytest
from django.core.management import call_command

from cadres.models import Tenant, User
from cadres.roles import Role, roles_of
from evaluation.demo import DEMO_PASSWORD
from evaluation.models import Evaluation, PublishedResult

ACCOUNTS = ["canbo", "giamdoc", "captren", "thamdinh", "lanhdao", "tochuc", "quantri"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_demo")
        yield Tenant.objects.get(code="son-ha")
        call_command("flush", "--noinput")


@pytest.mark.django_db
def test_demo_has_sixty_cadres_two_quarters_and_every_role(demo):
    assert demo.cadre_set.count() >= 60
    assert PublishedResult.objects.filter(period__quarter=3).count() >= 60
    q4_states = set(Evaluation.objects.filter(period__quarter=4).values_list("state", flat=True))
    assert {"planning", "plan_submitted", "self_assessed", "proposed", "deferred"} <= q4_states
    held = {role for user in User.objects.filter(tenant=demo) for role in roles_of(user)}
    assert held == set(Role)
    assert User.objects.get(username="trunguong").is_central_observer


@pytest.mark.django_db
@pytest.mark.parametrize("username", ACCOUNTS)
def test_each_demo_account_signs_in_to_a_vietnamese_home(client, demo, username):
    login = client.get("/accounts/login/")
    assert "Đăng nhập" in login.content.decode()
    response = client.post(
        "/accounts/login/", {"username": username, "password": DEMO_PASSWORD}, follow=True
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="vi">' in page
    assert "Đăng xuất" in page
    assert "Sign out" not in page
