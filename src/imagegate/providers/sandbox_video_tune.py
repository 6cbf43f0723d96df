"""The sandbox video's sound: a tune with a note for each word of the prompt, in turn, for as
long as the clip lasts, in a key chosen by the whole prompt. Same prompt, same tune.

Each note is a sine that swells and dies away (so notes join without a click), made once as
16-bit mono PCM and reused; the samples go to the AAC encoder a frame of samples at a time, as
the video's frames are encoded, so the two streams are interleaved in the file.
"""

from __future__ import annotations

import array
import hashlib
import math
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from av import AudioStream, Packet
    from av.container import OutputContainer

SAMPLE_RATE = 24_000  # plenty for a tune; half the work of 48 kHz to make and to encode
NOTE_SECONDS = 0.25
# a major pentatonic scale over two octaves, in semitones above the prompt's root note
SCALE = (0, 2, 4, 7, 9, 12, 14, 16, 19, 21)
LOUDNESS = 9000  # of 32767
ATTACK_SECONDS = 0.01


class Tune:
    """The tune's AAC stream in `out`, fed up to a sample with `encode`, then `flush`ed."""

    def __init__(self, out: OutputContainer, prompt: str) -> None:
        self._stream: AudioStream = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        words = prompt.lower().split() or ["(empty)"]
        key = hashlib.blake2b(prompt.lower().encode(), digest_size=2).digest()
        self._root = 220 * 2 ** ((int.from_bytes(key, "big") % 12) / 12)  # A3 or above
        self._degrees = [
            hashlib.blake2b(word.encode(), digest_size=1).digest()[0] % len(SCALE) for word in words
        ]
        self._notes: dict[int, bytes] = {}
        self._note_samples = round(SAMPLE_RATE * NOTE_SECONDS)
        self._sent = 0  # samples given to the encoder so far

    def encode(self, seconds: Fraction, *, last: bool = False) -> list[Packet]:
        """The packets for the tune up to `seconds` into the clip: whole encoder frames of
        samples, and the rest too when this is the `last` call."""
        import av

        until = int(seconds * SAMPLE_RATE)
        size = self._stream.codec_context.frame_size or 1024
        packets: list[Packet] = []
        while self._sent + size <= until or (last and self._sent < until):
            count = min(size, until - self._sent)
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            frame.planes[0].update(self._samples(self._sent, count))
            frame.sample_rate = SAMPLE_RATE
            frame.pts, frame.time_base = self._sent, Fraction(1, SAMPLE_RATE)
            packets.extend(self._stream.encode(frame))
            self._sent += count
        return packets

    def flush(self) -> list[Packet]:
        return self._stream.encode(None)

    def _samples(self, start: int, count: int) -> bytes:
        pieces = []
        position = start
        while position < start + count:
            number, offset = divmod(position, self._note_samples)
            take = min(self._note_samples - offset, start + count - position)
            note = self._note(self._degrees[number % len(self._degrees)])
            pieces.append(note[offset * 2 : (offset + take) * 2])
            position += take
        return b"".join(pieces)

    def _note(self, degree: int) -> bytes:
        made = self._notes.get(degree)
        if made is None:
            step = 2 * math.pi * self._root * 2 ** (SCALE[degree] / 12) / SAMPLE_RATE
            length = self._note_samples
            attack = SAMPLE_RATE * ATTACK_SECONDS
            samples = array.array(
                "h",
                (
                    int(
                        LOUDNESS * min(1.0, k / attack) * (1 - k / length) ** 2 * math.sin(step * k)
                    )
                    for k in range(length)
                ),
            )
            made = self._notes[degree] = samples.tobytes()
        return made
