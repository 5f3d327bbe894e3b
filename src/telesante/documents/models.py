"""Files attached to acts: photos, ECG, PDF. Served only through the permission wall."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.core import loading


class Attachment(loading.Model):
    act = models.ForeignKey("acts.Act", on_delete=models.CASCADE, related_name="attachments")
    message_id = models.BigIntegerField(null=True, blank=True)
    field = models.CharField(_("champ du formulaire"), max_length=40, blank=True)
    file = models.FileField(upload_to="attachments/%Y/%m/")
    thumbnail = models.FileField(upload_to="thumbnails/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    taken_on = models.DateField(_("photo prise le"), null=True, blank=True)
    # A professional, or a guest of the act's room (patient at home, family, interpreter).
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_by_guest = models.ForeignKey(
        "rooms.GuestLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def patient_id(self) -> int:
        return self.act.patient_id

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
