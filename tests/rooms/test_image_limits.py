"""Images are decoded only within a pixel limit: a few kilobytes of PNG declaring hundreds of
millions of pixels are refused in French, for professionals and guests alike, and refusing them
costs no memory (decoding the 12,000 × 12,000 one took the server from 0.19 to 1.08 GB)."""

import struct
import subprocess
import sys
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from telesante.documents.models import Attachment
from tests.conftest import logged_in
from tests.rooms.conftest import TC
from tests.rooms.test_guest_documents import admit, enter_as_guest

REFUSAL = "L'image dépasse 50 millions de pixels : réduisez sa définition."


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(width: int, height: int) -> bytes:
    """A valid black 1-bit PNG of width × height, compressed row by row (never held whole)."""
    packer = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte, then the bits
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def test_huge_images_are_refused_for_professionals_and_guests(tc_world: TC):
    room = tc_world.room
    url = reverse("room_share", args=[room.slug])
    bomb = png_bomb(20_000, 20_000)
    assert len(bomb) < 64 * 1024  # 48 KB that answered 500
    doctor = logged_in(tc_world.cardiologist)
    refused = doctor.post(url, {"file": upload("scan.png", bomb)})
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"] == {"file": [REFUSAL]}
    browser, guest = enter_as_guest(tc_world, room)
    admit(guest)
    refused = browser.post(url, {"file": upload("photo.png", png_bomb(12_000, 12_000))})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"file": [REFUSAL]}
    assert not Attachment.objects.exists()
    # Within the limit, the same kind of image is filed.
    assert browser.post(url, {"file": upload("ok.png", png_bomb(2_000, 1_500))}).status_code == 201


MEASURE = """
import os, resource, sys
import django
django.setup()
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from telesante.documents import services
data = sys.stdin.buffer.read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    services.clean_upload(SimpleUploadedFile("bomb.png", data))
    outcome = "accepted"
except ValidationError:
    outcome = "refused"
print(outcome, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_refusing_a_decompression_bomb_costs_no_memory():
    """In a process of its own, so that its peak memory is the upload's alone."""
    bomb = png_bomb(12_000, 12_000)
    assert len(bomb) < 32 * 1024
    done = subprocess.run(
        [sys.executable, "-c", MEASURE],
        input=bomb,
        capture_output=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "telesante.settings", "TELESANTE_DEBUG": "1"},
    )
    outcome, grown_kb = done.stdout.decode().split()
    assert outcome == "refused"
    assert int(grown_kb) < 20 * 1024  # decoding it took 800 MB more
