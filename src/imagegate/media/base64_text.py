"""Base64 kept as the ASCII bytes it arrived as, never turned into a Python str.

An image in an upstream's JSON answer is megabytes of base64. Parsed the usual way it becomes
a str (a copy), and serialised again into the client's answer another copy; with
`json_splice` it stays a view into the bytes the upstream sent and is written out from there.
"""

from __future__ import annotations

import binascii

import pybase64

_CHECK_PIECE = 2**20  # characters: a multiple of 4, so pieces decode on their own
_PAD = ord("=")


def as_text(value: object) -> str | None:
    """A text field of a parsed answer as a str. A long enough text made only of base64
    characters comes out of `json_splice` as `Base64Text`; it is still the text."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, Base64Text) else None


class Base64Text:
    __slots__ = ("_decoded", "ascii")

    def __init__(self, ascii: bytes | memoryview, decoded: bytes | None = None) -> None:
        self.ascii = ascii  # the base64 characters, as bytes
        self._decoded = decoded

    @classmethod
    def of_str(cls, text: str) -> Base64Text:
        """Clean base64 as it is; anything else (line breaks, say) decoded leniently and
        encoded again, so what is written out is always plain base64."""
        try:
            checked = cls.checked(text.encode("ascii"))
        except UnicodeEncodeError:
            checked = None
        return checked or cls.of_bytes(pybase64.b64decode(text))

    @classmethod
    def of_bytes(cls, data: bytes) -> Base64Text:
        return cls(pybase64.b64encode(data), decoded=data)

    @classmethod
    def checked(cls, ascii: bytes | memoryview) -> Base64Text | None:
        """The characters if they are valid base64, else None. Checked by decoding a piece at a
        time (as fast as a check can be) and keeping none of it: an image held in flight is its
        base64 alone."""
        last = len(ascii) - _CHECK_PIECE
        try:
            for start in range(0, len(ascii), _CHECK_PIECE):
                piece = ascii[start : start + _CHECK_PIECE]
                if start < last and piece[-1] == _PAD:  # padding only at the very end
                    return None
                pybase64.b64decode(piece, validate=True)
        except (binascii.Error, ValueError):
            return None
        return cls(ascii)

    def __len__(self) -> int:
        return len(self.ascii)

    def __str__(self) -> str:
        return bytes(self.ascii).decode("ascii")

    def __repr__(self) -> str:
        return f"Base64Text({len(self.ascii)} characters)"

    def decode(self) -> bytes:
        if self._decoded is None:
            self._decoded = pybase64.b64decode(self.ascii)
        return self._decoded

    def head(self, size: int) -> bytes:
        """About the first `size` decoded bytes, decoding no more than that."""
        if self._decoded is not None:
            return self._decoded[:size]
        return pybase64.b64decode(self.ascii[: size // 3 * 4])
