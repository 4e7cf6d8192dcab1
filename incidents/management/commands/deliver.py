"""manage.py deliver: send the subscriptions' e-mails and webhooks (where Celery is not configured)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.notify.deliver import DeliveryReport, deliver_due


class Command(BaseCommand):
    help = (
        "Deliver the outbox of subscriptions: e-mails and signed webhooks, retried with backoff. Runs until "
        "stopped, looking for new deliveries every INCIDENTS_DELIVERY_POLL_SECONDS; --once sends what is due "
        "and stops. Not needed where CELERY_BROKER_URL is set: a Celery task does it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then stop")

    def handle(self, *args, once: bool, **options) -> None:
        if once:
            self.report(deliver_due(), always=True)
            return
        self.stdout.write(_("Delivering; stop with Ctrl-C."))
        try:
            while True:
                close_old_connections()
                report = deliver_due()
                self.report(report)
                wait = settings.INCIDENTS_DELIVERY_POLL_SECONDS
                if report.next_due is not None:
                    wait = min(wait, max(0.0, (report.next_due - timezone.now()).total_seconds()))
                time.sleep(wait)
        except KeyboardInterrupt:
            self.stdout.write(_("Stopped."))

    def report(self, report: DeliveryReport, *, always: bool = False) -> None:
        if always or report.sent or report.failed or report.given_up:
            self.stdout.write(
                _("%(sent)d sent, %(failed)d to retry, %(given_up)d given up.")
                % {"sent": report.sent, "failed": report.failed, "given_up": report.given_up}
            )
