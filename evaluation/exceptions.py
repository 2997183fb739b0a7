"""Errors of the workflow, each mapped to one HTTP status by the screens and the API."""

from django.utils.translation import gettext_lazy as _


class Conflict(Exception):
    """Someone else acted first, or the evaluation is no longer in the state the action needs."""

    default_message = _("This evaluation has changed since you opened it. Reload and try again.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class QuotaExceeded(Conflict):
    """R9: this decision would give more Excellent grades than the group's quota allows."""

    def __init__(self, message, ranked_candidates):
        super().__init__(message)
        self.ranked_candidates = ranked_candidates
