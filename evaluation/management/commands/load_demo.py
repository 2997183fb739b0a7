from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from cadres.models import Tenant
from evaluation.demo import DEMO_PASSWORD, build_demo


class Command(BaseCommand):
    help = "Build the demo province with its cadres, roles and two quarters of 2026."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, seed, **options):
        if Tenant.objects.filter(code="son-ha").exists():
            self.stdout.write(_("The demo organisation is already loaded."))
        else:
            demo = build_demo(seed)
            self.stdout.write(
                _("Demo organisation “%(name)s”: %(count)s cadres.")
                % {"name": demo.tenant.name, "count": len(demo.cadres)}
            )
            for username, what in demo.accounts:
                self.stdout.write(f"  {username:<10} {what}")
        self.stdout.write(
            _("Password of every demo account: %(password)s") % {"password": DEMO_PASSWORD}
        )
        self.stdout.write(_("Open http://127.0.0.1:8000 and sign in."))
