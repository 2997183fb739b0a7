"""Run the periodic jobs once as of a date, in this process: ``run_periodic --date 2026-07-05``.

Replaying the calendar day after day does what the daily beat would have done; running the
same date twice sends nothing twice.
"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import Tenant
from evaluation import jobs


def _day(value: str) -> date:
    for parse in (date.fromisoformat, _vietnamese_date):
        try:
            return parse(value)
        except ValueError:
            continue
    raise CommandError(
        _("“%(value)s” is not a date: write it as 2026-07-05 or 05/07/2026.") % {"value": value}
    )


def _vietnamese_date(value: str) -> date:
    day, month, year = value.split("/")
    return date(int(year), int(month), int(day))


class Command(BaseCommand):
    help = "Run the periodic jobs (open quarters, reminders, R16 marking, year end) as of a date."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="the day to run, 2026-07-05 or 05/07/2026 (default: today)"
        )
        parser.add_argument(
            "--until", help="replay every day from --date to this day, both included"
        )
        parser.add_argument(
            "--tenant", action="append", default=[], help="a tenant's code (repeatable)"
        )

    def handle(self, *args, **options):
        first = _day(options["date"]) if options["date"] else timezone.localdate()
        last = _day(options["until"]) if options["until"] else first
        if last < first:
            raise CommandError(_("--until must not be before --date."))
        tenant_ids = None
        if options["tenant"]:
            tenants = dict(
                Tenant.objects.filter(code__in=options["tenant"]).values_list("code", "pk")
            )
            unknown = sorted(set(options["tenant"]) - set(tenants))
            if unknown:
                raise CommandError(
                    _("Unknown tenant code(s): %(codes)s") % {"codes": ", ".join(unknown)}
                )
            tenant_ids = list(tenants.values())
        day, failures = first, 0
        while day <= last:
            summary = jobs.run_calendar(as_of=day, tenant_ids=tenant_ids)
            reminders = sum(r["reminders"] for r in summary.results.values())
            escalations = sum(r["escalations"] for r in summary.results.values())
            self.stdout.write(
                f"{day:%d/%m/%Y}: {summary.tenants} tenant(s), {reminders} reminder(s), "
                f"{escalations} escalation(s)"
            )
            for tenant_id, error in summary.errors.items():
                self.stderr.write(f"{day:%d/%m/%Y}: tenant {tenant_id} failed: {error}")
            failures += len(summary.errors)
            day += timedelta(days=1)
        if failures:
            raise CommandError(
                _("%(count)s tenant calendar(s) failed; see the log.") % {"count": failures}
            )
