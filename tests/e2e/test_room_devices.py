"""Devices during a call, in Chromium with fake cameras and three fake microphones: the
nurse switches to her second camera (an otoscope, say) in the room's chooser mid-call, the
cardiologist keeps receiving video, and what she sends, shows and photographs now comes from
that camera; she picks another microphone while muted (it stays muted) and the cardiologist
keeps receiving sound; the camera off, switched while off, then on again.
"""

import pytest
from playwright.sync_api import expect

from telesante.documents.models import Attachment
from tests.e2e.conftest import CHROMIUM_ARGS, wait_until
from tests.e2e.test_teleconsultation_call import (  # noqa: F401 (fixtures)
    call,
    frames_advance,
    server,
)
from tests.rooms.conftest import TC, tc_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REMOTE = ".tile.remote video"
# What the one call of the page sends, and what the local preview shows, of a kind.
SENT_JS = """(kind) => {
  const [entry] = window.telesanteRoom.peers.values();
  const track = entry.pc.getSenders().map((s) => s.track).find((t) => t && t.kind === kind);
  return track && { label: track.label, id: track.getSettings().deviceId, on: track.enabled };
}"""
SENDERS_JS = """() => [...window.telesanteRoom.peers.values()][0].pc.getSenders()
  .map((s) => s.track && s.track.kind).sort()"""
PREVIEW_JS = """() => {
  const track = document.getElementById("local-video").srcObject.getVideoTracks()[0];
  return track.readyState === "live" ? track.label : "";
}"""
AUDIO_IN_JS = """async () => {
  const [entry] = window.telesanteRoom.peers.values();
  let packets = 0;
  (await entry.pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") packets += s.packetsReceived;
  });
  return packets;
}"""


@pytest.fixture(scope="module")
def chromium_args() -> list[str]:
    # Chromium's second fake camera (fake_device_1) is a depth camera (Y16) that WebRTC does
    # not send; the third is an ordinary one: the nurse's second camera.
    fake = "--use-fake-device-for-media-stream"
    return [f"{fake}=device-count=3" if a == fake else a for a in CHROMIUM_ARGS]


def option_value(page, select: str, label: str) -> str:
    return page.locator(f"{select} option", has_text=label).get_attribute("value")


def sent(page, kind: str) -> dict:
    return page.evaluate(SENT_JS, kind)


def test_switching_camera_and_microphone_mid_call_keeps_the_call(call, tc_world: TC):  # noqa: F811
    nurse = tc_world.w.nurse_a
    doc, nu = call
    cameras = nu.locator("#camera-select option")
    expect(cameras).to_have_count(3)
    assert nu.locator("#camera-select").input_value() == option_value(
        nu, "#camera-select", "fake_device_0"
    )
    assert sent(nu, "video")["label"] == "fake_device_0"
    nu.evaluate("window.firstCamera = window.telesanteRoom.stream.getVideoTracks()[0]")

    # The second camera, chosen mid-call.
    second = option_value(nu, "#camera-select", "fake_device_2")
    nu.select_option("#camera-select", second)
    wait_until(nu, f"(id) => ({SENT_JS})('video').id === id", second)
    assert sent(nu, "video") == {"label": "fake_device_2", "id": second, "on": True}
    assert nu.evaluate(PREVIEW_JS) == "fake_device_2"
    assert nu.evaluate("window.firstCamera.readyState") == "ended"  # released
    frames_advance(doc, REMOTE)
    # The snapshot of her own video is taken from the second camera's picture.
    nu.get_by_role("button", name="Photo de votre caméra").click()
    expect(doc.locator("#chat-log")).to_contain_text("Document versé au dossier : cliche-")
    snapshot = Attachment.objects.get(act_id=tc_world.consultation.pk)
    assert snapshot.content_type == "image/jpeg" and snapshot.uploaded_by == nurse

    # Another microphone while muted: it stays muted, the sound keeps flowing.
    nu.get_by_role("button", name="Couper le micro").click()
    mic = option_value(nu, "#mic-select", "Fake Audio Input 2")
    nu.select_option("#mic-select", mic)
    wait_until(nu, f"(id) => ({SENT_JS})('audio').id === id", mic)
    assert sent(nu, "audio") == {"label": "Fake Audio Input 2", "id": mic, "on": False}
    expect(nu.locator("#btn-mic")).to_have_attribute("aria-pressed", "true")
    before = doc.evaluate(AUDIO_IN_JS)
    wait_until(doc, f"async (least) => (await ({AUDIO_IN_JS})()) > least", before + 10)
    nu.get_by_role("button", name="Rétablir le micro").click()
    assert sent(nu, "audio")["on"] is True

    # Camera off, switched back to the first camera while off: still off; then on again.
    nu.get_by_role("button", name="Couper la caméra").click()
    expect(nu.locator("#btn-cam")).to_have_attribute("aria-pressed", "true")
    assert sent(nu, "video")["on"] is False
    first = option_value(nu, "#camera-select", "fake_device_0")
    nu.select_option("#camera-select", first)
    wait_until(nu, f"(id) => ({SENT_JS})('video').id === id", first)
    assert sent(nu, "video") == {"label": "fake_device_0", "id": first, "on": False}
    nu.get_by_role("button", name="Rétablir la caméra").click()
    expect(nu.locator("#btn-cam")).to_have_attribute("aria-pressed", "false")
    assert sent(nu, "video")["on"] is True
    frames_advance(doc, REMOTE)
    # The cardiologist's side (the one that answered) switches too.
    other = option_value(doc, "#camera-select", "fake_device_2")
    doc.select_option("#camera-select", other)
    wait_until(doc, f"(id) => ({SENT_JS})('video').id === id", other)
    frames_advance(nu, REMOTE)
    # Nothing of this added a sender: tracks were replaced in the same connection.
    for page in (doc, nu):
        assert page.evaluate(SENDERS_JS) == ["audio", "video"]
