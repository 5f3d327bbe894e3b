"""A network namespace of the test's own: its loopback carries a server and Chromium, and the
test cuts its UDP (the media path of WebRTC) while TCP (pages, WebSocket, and PostgreSQL
through its Unix socket) keeps working.

The cut is a `tc` classifier on the namespace's loopback sending UDP to a class whose queue
holds no packet (htb, u32 and pfifo: this kernel has no netem, prio nor drop action). Only the
namespace's traffic is touched, never the machine's, and deleting the namespace removes the
cut with it. Without the kernel facility (no CAP_NET_ADMIN, no htb), the tests skip saying
why, CI included: a kernel capability is missing, not a service.
"""

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CUT = [
    "qdisc add dev lo root handle 1: htb default 1",
    "class add dev lo parent 1: classid 1:1 htb rate 10gbit quantum 60000",
    "class add dev lo parent 1: classid 1:2 htb rate 10gbit quantum 60000",
    "qdisc add dev lo parent 1:2 handle 20: pfifo limit 0",
    "filter add dev lo parent 1: protocol ip prio 1 u32 match ip protocol 17 0xff classid 1:2",
    "filter add dev lo parent 1: protocol ipv6 prio 2 u32 match ip6 protocol 17 0xff classid 1:2",
]


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


def _tc(netns: str, command: str) -> subprocess.CompletedProcess:
    return _ip("netns", "exec", netns, "tc", *command.split())


def exists(name: str) -> bool:
    return name in _ip("netns", "list").stdout.split()


def cut_udp(netns: str) -> None:
    for command in CUT:
        done = _tc(netns, command)
        if done.returncode:
            raise RuntimeError(f"tc {command} : {done.stderr.strip()}")


def restore_udp(netns: str) -> None:
    _tc(netns, "qdisc del dev lo root")


def udp_is_cut(netns: str) -> bool:
    return "htb" in _tc(netns, "qdisc show dev lo").stdout


@contextmanager
def udp_cut(netns: str) -> Iterator[None]:
    """UDP dropped on the namespace's loopback until the block ends (whatever happens in it)."""
    try:
        cut_udp(netns)
        yield
    finally:
        restore_udp(netns)


def _forget_orphans() -> None:
    """Namespaces left by a test run that was killed (its process is gone)."""
    for name in _ip("netns", "list").stdout.split():
        parts = name.split("-")
        ours = len(parts) == 3 and parts[0] == "telesante" and parts[1].isdecimal()
        if ours and not Path(f"/proc/{parts[1]}").exists():
            _ip("netns", "del", name)


@contextmanager
def namespace() -> Iterator[str]:
    """A fresh namespace with its loopback up, deleted on exit; skips where it cannot be made
    or where its UDP cannot be cut."""
    if os.geteuid() != 0 or not (shutil.which("ip") and shutil.which("tc")):
        pytest.skip("Coupure réseau impossible : il faut root (CAP_NET_ADMIN), ip et tc.")
    _forget_orphans()
    name = f"telesante-{os.getpid()}-{secrets.token_hex(3)}"
    made = _ip("netns", "add", name)
    if made.returncode:
        pytest.skip(f"Espace de noms réseau impossible ({made.stderr.strip()}).")
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        try:  # the cut this kernel allows, tried once before the test relies on it
            cut_udp(name)
        except RuntimeError as exc:
            pytest.skip(f"Le noyau ne permet pas de couper l'UDP : {exc}.")
        restore_udp(name)
        yield name
    finally:
        _ip("netns", "del", name)


def chromium_inside(netns: str, chromium: Path, folder: Path) -> Path:
    """An executable that starts Chromium in the namespace (Playwright talks to it through a
    pipe, which crosses namespaces)."""
    wrapper = folder / "chromium-netns"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {netns} {chromium} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper
