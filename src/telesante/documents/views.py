from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from telesante.core import audit, policy
from telesante.core.models import AuditAction
from telesante.documents.models import Attachment


@login_required
def download(request: HttpRequest, pk: int, thumbnail: bool = False) -> FileResponse:
    """An attachment, only through the wall of its act; every download is audited."""
    attachment = (
        Attachment.objects.select_related("act")
        .filter(pk=pk, act__in=policy.visible_acts(request.user))
        .first()
    )
    stored = attachment and (attachment.thumbnail if thumbnail else attachment.file)
    if not stored:
        raise Http404
    audit.record(
        request,
        request.user,
        AuditAction.READ,
        [attachment],
        detail="miniature" if thumbnail else "fichier",
    )
    content_type = "image/jpeg" if thumbnail else attachment.content_type
    return FileResponse(
        stored.open("rb"),
        content_type=content_type,
        filename=attachment.original_name,
        as_attachment=not thumbnail and not attachment.is_image,
    )
