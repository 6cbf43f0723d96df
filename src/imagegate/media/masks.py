"""Inpainting masks from the gateway's convention into the grey-level one.

Clients send OpenAI's mask: a PNG whose transparent pixels mark the area to change (and whose
colours mean nothing). Stability's services read a mask's brightness instead: white is changed
fully, black is kept, greys in between. `brightness_mask` turns the first into the second,
alpha for alpha (half-transparent becomes mid-grey). A mask with no transparency is already a
grey-level mask and is left as it is. Decoding runs in the CPU pool (`media.cpu`): call it
through `run_cpu`.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


def brightness_mask(data: bytes) -> bytes | None:
    """A grey-level PNG with white where `data` is transparent, or None when `data` has no
    transparent pixel (it is sent as it is)."""
    with Image.open(io.BytesIO(data)) as image:
        if image.mode not in _ALPHA_MODES and "transparency" not in image.info:
            return None
        alpha = image.convert("RGBA").getchannel("A")
    if alpha.getextrema() == (255, 255):
        return None
    out = io.BytesIO()
    ImageOps.invert(alpha).save(out, "PNG")
    return out.getvalue()
