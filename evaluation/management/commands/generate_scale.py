"""Write a tenant of any size for the scale benchmarks: ``generate_scale --cadres 50000``.

The same ``--seed`` writes the same tenant; ``--fingerprint`` prints a digest of its content
without database ids, to compare two runs. See ``evaluation.scale`` and bench/README.md.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from evaluation.scale import DEFAULT_PASSWORD, scale_fingerprint, scale_generate


class Command(BaseCommand):
    help = "Generate a tenant of N cadres in a unit tree, the four quarters of 2026 in every step."

    def add_arguments(self, parser):
        parser.add_argument("--cadres", type=int, default=50_000)
        parser.add_argument("--units", type=int, help="default: one unit per 25 cadres")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--tenant-code", default="scale")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="of every account")
        parser.add_argument(
            "--fingerprint", action="store_true", help="print a digest of the tenant's content"
        )

    def handle(self, *args, **options):
        try:
            summary = scale_generate(
                cadres=options["cadres"],
                units=options["units"] or max(12, options["cadres"] // 25),
                seed=options["seed"],
                tenant_code=options["tenant_code"],
                password=options["password"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        write = self.stdout.write
        write(
            _("Tenant %(code)s (id %(id)s):")
            % {"code": summary.tenant.code, "id": summary.tenant.pk}
        )
        for name, count in summary.counts.items():
            write(f"  {name:<20} {count:>12,}")
        for quarter, states in summary.states.items():
            listed = ", ".join(f"{state} {n:,}" for state, n in sorted(states.items()))
            write(f"  Q{quarter}/2026: {listed}")
        write(_("Time per phase (seconds):"))
        for phase, seconds in summary.seconds.items():
            write(f"  {phase:<26} {seconds:>8.1f}")
        write(f"  {'total':<26} {sum(summary.seconds.values()):>8.1f}")
        write(_("Units of the benchmarks: %(units)s") % {"units": summary.units})
        write(
            _("Accounts (password %(password)s): %(accounts)s")
            % {"password": summary.password, "accounts": summary.accounts}
        )
        if options["fingerprint"]:
            write(_("Fingerprint: %(digest)s") % {"digest": scale_fingerprint(summary.tenant)})
