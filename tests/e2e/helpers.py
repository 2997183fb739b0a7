"""What the browser tests share: the actors' password and the words as a Vietnamese page
shows them, taken from the same catalogue the server uses."""

from decimal import Decimal

from django.utils import formats, translation

PASSWORD = "E2e-matkhau-2026"


def with_password(*users) -> None:
    """Give the accounts the password the actors type on the login page."""
    for user in users:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


# --- Words as the pages show them --------------------------------------------------------------


def vi(message: str, **params) -> str:
    """A message of the catalogue as a Vietnamese page shows it (a quarter's name too)."""
    with translation.override("vi"):
        text = translation.gettext(message)
        return text % {name: str(value) for name, value in params.items()} if params else text


def vi_plural(singular: str, plural: str, count: int, **params) -> str:
    """A message with a count, as a Vietnamese page shows it."""
    with translation.override("vi"):
        return translation.ngettext(singular, plural, count) % {"n": count, **params}


def vi_label(choice) -> str:
    """The Vietnamese label of a TextChoices member (a grade, a state)."""
    with translation.override("vi"):
        return str(choice.label)


def vi_number(value, places: int = 1) -> str:
    """A number the Vietnamese way: 99,5."""
    with translation.override("vi"):
        return formats.number_format(Decimal(str(value)), places)
