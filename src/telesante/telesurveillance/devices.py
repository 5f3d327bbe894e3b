"""Device and gateway tokens (`telesante create-token --device SERIAL | --gateway EXPLOITANT`)."""

from django.core.management.base import CommandError

from telesante.telesurveillance.models import Device, DeviceToken, Enrolment


def issue_token(serial: str, exploitant: str) -> str:
    if serial:
        device = Device.objects.filter(serial=serial).first()
        if device is None:
            raise CommandError(f"Aucun dispositif de numéro de série {serial}.")
        return DeviceToken.issue(device=device)[1]
    if not Enrolment.objects.filter(exploitant=exploitant).exists():
        raise CommandError(f"Aucun suivi n'a pour exploitant « {exploitant} ».")
    return DeviceToken.issue(exploitant=exploitant)[1]
