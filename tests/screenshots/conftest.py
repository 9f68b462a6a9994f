"""Each screenshot test gets its own Xvfb screen of the size it asks for, ended (and waited for) before
tests/conftest.py looks for processes left running."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time

import pytest


@pytest.fixture
def display(request, tmp_path):
    """An Xvfb screen of ``request.param`` ("WIDTHxHEIGHT"): its DISPLAY name. The bare screen is Xvfb's -retro
    weave, so that any part of a window that did not paint is found in the picture."""
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (Debian: apt-get install xvfb xauth libgl1-mesa-dri)")
    read, write = os.pipe()
    log = open(tmp_path / "xvfb.log", "wb")  # noqa: SIM115 (closed below; a pipe could fill and stall Xvfb)
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{request.param}x24", "-retro",
                             "-nolisten", "tcp", "+extension", "GLX"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=log)
    os.close(write)
    number = b""
    deadline = time.monotonic() + 20
    try:
        while not number.endswith(b"\n") and proc.poll() is None:
            if not select.select([read], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            chunk = os.read(read, 16)  # Xvfb writes the display number it chose, then a newline
            if not chunk:
                break
            number += chunk
    finally:
        os.close(read)
    if not number.strip().isdigit():
        proc.kill()
        proc.wait(10)
        log.close()
        pytest.fail(f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text(errors='replace')[-500:]}")
    try:
        yield f":{number.decode().strip()}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
