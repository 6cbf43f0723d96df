"""`imagegate generate`: in-process and against a running gateway, writing real image files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

from conftest import OVERLAY, clean_env
from imaging import encoded


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imagegate", "generate", *args],
        env=clean_env(tmp_path / "home", IMAGEGATE_CATALOG=str(OVERLAY)),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_in_process_writes_numbered_files(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        "a kite",
        "-m",
        "sandbox/image",
        "--aspect-ratio",
        "16:9",
        "-n",
        "2",
        "--format",
        "jpeg",
        "-o",
        str(tmp_path / "kite.jpg"),
    )
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.split()]
    assert paths == [tmp_path / "kite-1.jpg", tmp_path / "kite-2.jpg"]
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "JPEG" and image.size == (1344, 768)
    assert "gen-" in result.stderr and "imagegate sandbox" in result.stderr


def test_into_a_directory_with_an_input_image(tmp_path: Path) -> None:
    reference = tmp_path / "ref.png"
    reference.write_bytes(encoded((0, 200, 0), (100, 100)))
    result = _run(
        tmp_path,
        "like this",
        "-m",
        "sandbox/image",
        "-i",
        str(reference),
        "--size",
        "300x200",
        "-o",
        "out/",
    )
    assert result.returncode == 0, result.stderr
    (path,) = [Path(line) for line in result.stdout.split()]
    assert path.parent == Path("out") and path.name.startswith("gen-") and path.suffix == ".png"
    with Image.open(tmp_path / path) as image:
        assert image.size == (300, 200)


def test_against_a_running_gateway(tmp_path: Path, gateway) -> None:
    result = _run(
        tmp_path,
        "remote",
        "-m",
        "sandbox/image",
        "--url",
        gateway.url,
        "--seed",
        "3",
        "-o",
        "r.webp",
        "--format",
        "webp",
    )
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "r.webp") as image:
        assert image.format == "WEBP"


def test_a_jpeg_reference_to_a_running_gateway_shapes_the_image(tmp_path: Path, gateway) -> None:
    """A reference goes labelled as what its bytes are: a JPEG is not sent as a PNG (which the
    gateway would refuse), and the sandbox blends it in (the result is mostly its red)."""
    reference = tmp_path / "ref.jpg"
    reference.write_bytes(encoded((230, 10, 10), (200, 200), format="JPEG"))
    result = _run(
        tmp_path, "x", "-m", "sandbox/image", "-i", str(reference), "--url", gateway.url,
        "-o", "edited.png",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "edited.png") as image:
        red, green, blue = image.convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert red > green + 40 and red > blue + 40


def test_errors_are_one_line(tmp_path: Path, gateway) -> None:
    local = _run(tmp_path, "x", "-m", "sandbox/image", "--aspect-ratio", "7:3")
    assert local.returncode == 1
    assert "aspect_ratio '7:3' is not accepted by sandbox/image" in local.stderr
    remote = _run(tmp_path, "x", "-m", "nobody/nothing", "--url", gateway.url)
    assert remote.returncode == 1
    assert "HTTP 404: model 'nobody/nothing' is not in the catalog" in remote.stderr
