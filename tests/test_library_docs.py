"""docs/library.md works as written: its Python blocks run in order, each as its own script, in
an empty folder with an empty home, and make the files they say they make (and no others)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import PROVIDER_KEYS

DOC = Path(__file__).parent.parent / "docs" / "library.md"


def _blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", DOC.read_text(), flags=re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """(the folder, the home, what each block printed)."""
    folder, home = tmp_path_factory.mktemp("library-doc"), tmp_path_factory.mktemp("home")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PROVIDER_KEYS and not key.startswith("IMAGEGATE_")
    }
    env["HOME"] = str(home)
    printed = []
    for block in _blocks():
        done = subprocess.run(
            [sys.executable, "-c", block],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{block}\n{done.stderr}"
        printed.append(done.stdout)
    return folder, home, printed


def test_every_section_has_code() -> None:
    blocks = _blocks()
    assert len(blocks) >= 8
    for needle in ("async with", "SyncGateway", "async for", ".models(", "references=", "except"):
        assert any(needle in block for block in blocks), needle


def test_the_fox_is_a_16_9_png(ran: tuple[Path, Path, list[str]]) -> None:
    folder, _, printed = ran
    with Image.open(folder / "fox.png") as fox:
        assert fox.format == "PNG" and fox.size == (1344, 768)  # 16:9, to multiples of 64
        assert abs(fox.size[0] / fox.size[1] - 16 / 9) < 0.03
    assert printed[0].startswith("gen-") and "(1344, 768)" in printed[0]


def test_the_other_examples_made_their_images(ran: tuple[Path, Path, list[str]]) -> None:
    folder, _, _ = ran
    expected = {
        "kite-1.webp": ("WEBP", None),
        "kite-2.webp": ("WEBP", None),
        "blue-fox.jpg": ("JPEG", (512, 512)),
        "preview-0.png": ("PNG", None),
        "preview-1.png": ("PNG", None),
        "lighthouse.png": ("PNG", None),
    }
    for name, (format, size) in expected.items():
        with Image.open(folder / name) as image:
            assert image.format == format, name
            assert size is None or image.size == size, name
    with Image.open(folder / "lighthouse.png") as image:
        assert image.size[0] * 2 == image.size[1] * 3  # 3:2


def test_the_printed_output_is_what_the_comments_say(ran: tuple[Path, Path, list[str]]) -> None:
    _, _, printed = ran
    text = "\n".join(printed)
    assert "did you mean 'aspect_ratio'?" in text
    assert "not_found ['sandbox/image'" in text
    assert "invalid_request aspect_ratio" in text
    assert re.search(r"content_policy 403 gen-\w+", text)
    assert "succeeded library" in text  # the record read back through the engine's store
    assert "  aspect_ratio: one of 1:1" in text  # a capability descriptor, as listed


def test_the_kite_is_a_two_second_video(ran: tuple[Path, Path, list[str]]) -> None:
    import av

    folder, _, printed = ran
    assert any(line.startswith("2.0 640 360 0") for text in printed for line in text.splitlines())
    with av.open(str(folder / "kite.mp4")) as container:
        stream = container.streams.video[0]
        assert float(stream.duration * stream.time_base) == 2.0
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)


def test_only_the_asked_for_files_appear(ran: tuple[Path, Path, list[str]]) -> None:
    folder, home, _ = ran
    assert list(home.iterdir()) == []  # no ~/.imagegate, no database, no media
    made = {path.name for path in folder.iterdir()}
    assert "records.db" in made  # the one database a block asked for
    assert not {name for name in made if name.endswith(".db")} - {"records.db"}
