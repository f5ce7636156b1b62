"""Zips that are corrupt or hostile inside: a bad CRC, an unknown compression method, a
corrupt deflate stream, a stream cut short, a bomb (20 MB of one byte), a header that
understates the size, an empty file, a text file named .zip, half an archive, and one
without its central directory."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from grader.selftests.hostile_classes._kit import MODULE, SOLUTION, honest, patched, zip_bytes


def _members(data: bytes) -> tuple[int, int]:
    """(offset of the local header, offset of the central header) of a one-member zip."""
    return data.index(b"PK\x03\x04"), data.rindex(b"PK\x01\x02")


def build(class_dir: Path) -> None:
    honest(class_dir)
    good = zip_bytes([(MODULE, SOLUTION)])
    (class_dir / "bad_crc.zip").write_bytes(patched(good, b"ANSWERS", b"ANSWERZ"))
    local, central = _members(good)
    bad = bytearray(good)
    struct.pack_into("<H", bad, local + 8, 99)  # compression method 99 (AES, or unknown)
    struct.pack_into("<H", bad, central + 10, 99)
    (class_dir / "bad_method.zip").write_bytes(bytes(bad))
    deflated = bytearray(zip_bytes([(MODULE, SOLUTION)], zipfile.ZIP_DEFLATED))
    local, _ = _members(deflated)
    start = local + 30 + len(MODULE)
    deflated[start + 10 : start + 40] = b"\xff" * 30
    (class_dir / "bad_deflate.zip").write_bytes(bytes(deflated))
    short = bytearray(zip_bytes([(MODULE, SOLUTION)], zipfile.ZIP_DEFLATED))
    local, central = _members(short)
    size = struct.unpack_from("<L", short, local + 18)[0] // 2  # the stream cut in half
    struct.pack_into("<L", short, local + 18, size)
    struct.pack_into("<L", short, central + 20, size)
    (class_dir / "short_stream.zip").write_bytes(bytes(short))
    bomb = zip_bytes([(MODULE, b"#" * (20 * 2**20))], zipfile.ZIP_DEFLATED)
    (class_dir / "bomb.zip").write_bytes(bomb)
    liar = bytearray(bomb)
    local, central = _members(liar)
    struct.pack_into("<L", liar, local + 22, 100)  # "100 bytes once decompressed"
    struct.pack_into("<L", liar, central + 24, 100)
    (class_dir / "lying_size.zip").write_bytes(bytes(liar))
    (class_dir / "empty.zip").write_bytes(b"")
    (class_dir / "text.zip").write_text("not a zip\n")
    (class_dir / "half.zip").write_bytes(good[: len(good) // 2])
    (class_dir / "no_directory.zip").write_bytes(good[: good.rindex(b"PK\x01\x02")] + good[-22:])


EXPECT = {
    "refused": {
        "bad_crc.zip": f"cannot read '{MODULE}' from the archive (Bad CRC-32",
        "bad_method.zip": f"cannot read '{MODULE}' from the archive",
        "bad_deflate.zip": f"cannot read '{MODULE}' from the archive (Error -3",
        "short_stream.zip": f"cannot read '{MODULE}' from the archive",
        "bomb.zip": "too large",
        "lying_size.zip": f"cannot read '{MODULE}' from the archive",
        "empty.zip": "not a readable zip",
        "text.zip": "not a readable zip",
        "half.zip": "not a readable zip",
        "no_directory.zip": "not a readable zip",
    },
    "graded": {"honest": "full"},
}
