"""Attachment intake: type from content, size limit, EXIF location removed, thumbnails."""

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from telesante.documents.models import Attachment

SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
GPS_IFD = 0x8825
THUMB_SIZE = (320, 320)


@dataclass
class CleanFile:
    content: bytes
    content_type: str
    name: str
    thumbnail: bytes | None


def sniff(head: bytes) -> str | None:
    for magic, content_type in SIGNATURES.items():
        if head.startswith(magic):
            return content_type
    return None


def _open_bounded(data: bytes) -> Image.Image:
    """The image, decoded only once its header shows a size within the limit: a few kilobytes
    of PNG can declare 400 million pixels, and decoding them takes gigabytes."""
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError:
        image = None
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationError(_("L'image est illisible ou endommagée.")) from exc
    limit = settings.MAX_IMAGE_PIXELS
    if image is None or image.width * image.height > limit:
        raise ValidationError(
            _("L'image dépasse %(mp)s millions de pixels : réduisez sa définition.")
            % {"mp": limit // 1_000_000}
        )
    try:
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationError(_("L'image est illisible ou endommagée.")) from exc
    return image


def _strip_location(data: bytes, content_type: str) -> tuple[bytes, bytes]:
    """Re-encode the image without its GPS tags; return (image, thumbnail)."""
    image = _open_bounded(data)
    exif = image.getexif()
    exif.pop(GPS_IFD, None)
    fmt = "JPEG" if content_type == "image/jpeg" else "PNG"
    out = io.BytesIO()
    kwargs = {"quality": 92} if fmt == "JPEG" else {}
    image.save(out, fmt, exif=exif.tobytes(), **kwargs)
    # Scaled first, turned upright after: no full-size copy of the image.
    scale = min(THUMB_SIZE[0] / image.width, THUMB_SIZE[1] / image.height, 1)
    thumb = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
        reducing_gap=2.0,
    )
    thumb.info["exif"] = exif.tobytes()  # the orientation, for exif_transpose
    thumb = ImageOps.exif_transpose(thumb).convert("RGB")
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "JPEG", quality=80)
    return out.getvalue(), thumb_out.getvalue()


def clean_upload(upload: UploadedFile) -> CleanFile:
    """Check an uploaded file; raise a French ValidationError when it must be refused."""
    limit = settings.MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("« %(name)s » dépasse la taille maximale de %(mb)d Mo.")
            % {"name": upload.name, "mb": limit // (1024 * 1024)}
        )
    data = upload.read()
    content_type = sniff(data[:16])
    if content_type is None:
        raise ValidationError(
            _("« %(name)s » n'est pas une image JPEG ou PNG ni un PDF (contenu vérifié).")
            % {"name": upload.name}
        )
    thumbnail = None
    if content_type.startswith("image/"):
        data, thumbnail = _strip_location(data, content_type)
    stem = (upload.name or "fichier").rsplit(".", 1)[0][:80]
    return CleanFile(data, content_type, f"{stem}.{EXTENSIONS[content_type]}", thumbnail)


def store(
    act,
    user,
    clean: CleanFile,
    *,
    guest=None,
    field: str = "",
    message_id: int | None = None,
    taken_on=None,
) -> Attachment:
    """Save a checked file into the act's record; `user` is None when a guest of the act's room
    (`guest`) files it."""
    attachment = Attachment(
        act=act,
        uploaded_by=user,
        uploaded_by_guest=guest,
        field=field,
        message_id=message_id,
        taken_on=taken_on,
        original_name=clean.name,
        content_type=clean.content_type,
        size=len(clean.content),
        sha256=hashlib.sha256(clean.content).hexdigest(),
    )
    attachment.file.save(clean.name, ContentFile(clean.content), save=False)
    if clean.thumbnail:
        attachment.thumbnail.save(
            f"thumb-{clean.name}.jpg", ContentFile(clean.thumbnail), save=False
        )
    attachment.save()
    return attachment
