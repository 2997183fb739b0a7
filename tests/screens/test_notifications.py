"""The home page's messages: each one, or all, can be marked read by the person they are for."""

from cadres.roles import Role
from evaluation import services
from evaluation.models import Notification
from tests import factories


def _messages(user, count):
    services.notify(users=[user] * count, kind="reminder", message="Hạn nộp kế hoạch quý")
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def test_one_message_marked_read_leaves_the_others(unit, as_user):
    first, second = _messages(unit.superior, 2)
    client = as_user(unit.superior)
    assert "Mark all as read" in client.get("/").content.decode()

    response = client.post("/notifications/read/", {"notification": first.pk})

    assert response.status_code == 302 and response.url == "/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    page = client.get("/").content.decode()
    assert page.count("Hạn nộp kế hoạch quý") == 1


def test_all_marked_read_empties_the_list(unit, as_user):
    _messages(unit.superior, 3)
    client = as_user(unit.superior)

    client.post("/notifications/read/")

    assert not Notification.objects.filter(recipient=unit.superior, read_at__isnull=True)
    assert "Latest messages" not in client.get("/").content.decode()


def test_nobody_marks_another_persons_messages(unit, other_tenant, as_user):
    (theirs,) = _messages(unit.superior, 1)
    stranger = factories.holder(Role.SUPERIOR, factories.unit(other_tenant))
    colleague = unit.advisory  # same tenant, another person

    for user in (stranger, colleague):
        response = as_user(user).post("/notifications/read/", {"notification": theirs.pk})
        assert response.status_code == 302
        assert as_user(user).post("/notifications/read/").status_code == 302
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_only_a_signed_in_post_with_ids_is_accepted(unit, client, as_user):
    (note,) = _messages(unit.superior, 1)
    assert client.post("/notifications/read/").status_code == 302  # to the sign-in page
    signed_in = as_user(unit.superior)
    assert signed_in.get("/notifications/read/").status_code == 405
    for hostile in ("x", str(2**64), "-1", "١"):
        response = signed_in.post("/notifications/read/", {"notification": hostile})
        assert response.status_code == 400, hostile
    note.refresh_from_db()
    assert note.read_at is None
