"""Receipt photos: from untrusted upload bytes to a clean JPEG and thumbnail, and their files on disk.

Invariants:
- Only JPEG, PNG, WebP and HEIC (iPhone) are decoded, recognised by their first bytes before Pillow
  sees them, and Pillow may only use the decoder of that format (no guessing, no other plugins).
- One upload holds at most MAX_PHOTOS photos (check_photo_count, before any of them is decoded).
- An image is refused from the size its header declares, before its pixels are decoded: a side above
  MAX_INPUT_SIDE, more than MAX_PIXELS, or more decoded bytes than DECODE_BUDGET_BYTES for its format.
  A decompression bomb is a RuleViolation, never a crash, a hang or a worker swollen by a GB. Pillow's
  own bomb warning counts as an error too. A truncated file is refused (LOAD_TRUNCATED_IMAGES stays off).
- What is decoded is bounded: a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that still
  gives MAX_SIDE pixels (`Image.draft`), other formats are shrunk right after loading, before any copy
  (orientation, colour conversion) is made; so a worker's memory stays within a fixed bound per photo.
- What is stored is a new JPEG built from the pixels only, after the EXIF orientation is applied:
  no EXIF, GPS, XMP, ICC or comment of the upload survives. Its longest side is at most MAX_SIDE.
- Files are named by 32 random hex characters, never by anything the phone sent, and live in one
  folder outside static/; `ReceiptFiles.write` is called only after every check passed.
"""
import io
import math
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

from models.rules import RuleViolation

try:  # HEIC from iPhones, when pillow-heif is installed (it is a dependency; the check keeps imports safe)
    from pillow_heif import register_heif_opener
    register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - only without the dependency
    HEIC_SUPPORTED = False

MAX_SIDE = 1600             # what the browser shrinks to; uploads without JavaScript are shrunk here
# What the server decodes at all. With JavaScript the browser sends at most MAX_SIDE px
# (static/js/receipts.js); only a form without JavaScript, or a HEIC that Chromium cannot draw, sends
# the camera's original. Phones' default photos are 12 Mpx (4000 × 3000) and, on recent iPhones,
# 24 Mpx (5712 × 4284); the 48–200 Mpx modes are opt-in and never needed for a receipt, so 25 Mpx
# takes every default photo and halves what a 50 Mpx limit let one request decode.
MAX_PIXELS = 25_000_000
MAX_INPUT_SIDE = 12_000     # a long receipt may be narrow, but no photo is 1 × 49,000,000 px
MAX_PHOTOS = 10             # per upload: the page sends one photo per request; a form without JS a few
# Memory one decode may take beyond the app's own (~130 MiB per gunicorn worker), so that a worker stays
# under 300 MB whatever is uploaded. Bytes per declared pixel, measured with Pillow 13 and pillow-heif
# 1.8 (tests/bench/hostile_uploads.py shows the worker's peak): PNG 7 (a palette or 1-bit image is
# 1 byte, converted to RGB's 4, then the resize's intermediate); HEIC 9 (libheif's RGB buffer, Pillow's
# copy, the resize); WebP 17 (libwebp's canvases, the frame's bytes, Pillow's copy). A JPEG is decoded
# at a reduced DCT scale (under 3200 px a side) whatever its size; a progressive one also keeps its
# coefficients, 3 bytes per pixel of the full image: 4 in all.
# So: JPEG up to MAX_PIXELS, PNG up to 16 Mpx, HEIC 12.8 Mpx (a phone's 12 Mpx default), WebP 6.7 Mpx. The
# bench measured a worker at 120 MiB idle and 255–265 MiB decoding the largest of each, with the request around it.
DECODE_BUDGET_BYTES = 110 * 1024 * 1024
DECODE_BYTES_PER_PIXEL = {"JPEG": 4, "PNG": 7, "HEIF": 9, "WEBP": 17}
THUMB_SIDE = 320
JPEG_QUALITY = 85
THUMB_QUALITY = 75
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass
class CleanImage:
    """A receipt photo ready to store: JPEG bytes without metadata, and its thumbnail."""

    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int


def sniff_format(head: bytes) -> str | None:
    """The Pillow format name the first bytes announce, or None for anything we do not take."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS:
        return "HEIF"
    return None


def check_photo_count(count: int) -> None:
    """One upload holds at most MAX_PHOTOS photos; refused before any of them is decoded."""
    if count > MAX_PHOTOS:
        raise RuleViolation(_l("Stuur maximaal %(max)s foto's tegelijk. Kies de rest daarna.", max=MAX_PHOTOS),
                            field="photo")


def check_dimensions(kind: str, width: int, height: int) -> None:
    """Refuse, from the size the header declares, an image this server will not decode."""
    pixels = width * height
    if max(width, height) > MAX_INPUT_SIDE or pixels > MAX_PIXELS:
        raise RuleViolation(_l("Deze foto heeft te veel pixels. Maak een nieuwe foto met de camera."),
                            field="photo")
    if pixels * DECODE_BYTES_PER_PIXEL[kind] > DECODE_BUDGET_BYTES:
        raise RuleViolation(_l("Deze foto is te groot om om te zetten. Stuur hem als JPEG of kies een kleinere."),
                            field="photo")


def clean_receipt_image(data: bytes) -> CleanImage:
    """Check and re-encode an uploaded photo; RuleViolation with a message for the worker otherwise."""
    kind = sniff_format(data[:16])
    if kind is None:
        raise RuleViolation(_l("Dit is geen foto. Kies een foto (JPEG, PNG, WebP of HEIC)."), field="photo")
    if kind == "HEIF" and not HEIC_SUPPORTED:
        raise RuleViolation(_l("HEIC-foto's kunnen we niet lezen. Zet je camera op JPEG ('Meest compatibel')."),
                            field="photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])  # reads the header only
            check_dimensions(kind, *image.size)
            small = _decode_small(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise RuleViolation(_l("Deze foto heeft te veel pixels. Maak een nieuwe foto met de camera."),
                            field="photo") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise RuleViolation(_l("Deze foto is beschadigd of niet compleet. Maak de foto opnieuw."),
                            field="photo") from error
    return _re_encode(small)


def _decode_small(image: Image.Image) -> Image.Image:
    """The image's pixels, at most MAX_SIDE on its longest side, decoding no more than that needs."""
    width, height = image.size
    scale = MAX_SIDE / max(width, height)
    if image.format == "JPEG" and scale < 1:
        # the largest DCT reduction that keeps both sides at least their final size
        image.draft("RGB", (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
    image.load()
    if image.mode in ("1", "P", "PA"):  # resizing these would pick pixels, not average them
        image = image.convert("L" if image.mode == "1" else "RGBA" if image.has_transparency_data else "RGB")
    # In place: the full-size pixels are released here, before orientation or conversion copies them.
    # (Its EXIF, orientation included, stays with the image.)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def _re_encode(image: Image.Image) -> CleanImage:
    upright = ImageOps.exif_transpose(image).convert("RGB")
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    # A new image made of the pixels alone: none of the upload's metadata can ride along.
    pixels = Image.frombytes("RGB", upright.size, upright.tobytes())
    thumb = pixels.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return CleanImage(jpeg=_jpeg(pixels, JPEG_QUALITY), thumbnail=_jpeg(thumb, THUMB_QUALITY),
                      width=pixels.width, height=pixels.height)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def new_file_name() -> str:
    """A random name for a receipt's files; it says nothing about the receipt."""
    return secrets.token_hex(16)


class ReceiptFiles:
    """The folder that holds receipt photos (<name>.jpg) and thumbnails (<name>.thumb.jpg)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, name: str, thumbnail: bool = False) -> Path:
        """Where a receipt's photo or thumbnail lives; `name` is always one of ours (hex only)."""
        if not name or any(c not in "0123456789abcdef" for c in name):
            raise ValueError("not a receipt file name")
        return self.folder / (f"{name}.thumb.jpg" if thumbnail else f"{name}.jpg")

    def write(self, name: str, image: CleanImage) -> None:
        """Store a checked image; never overwrites (the name is new)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for thumbnail, data in ((False, image.jpeg), (True, image.thumbnail)):
            descriptor = os.open(self.path(name, thumbnail), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)

    def remove(self, name: str) -> None:
        """Delete a receipt's files, if they are there (after a failed transaction)."""
        for thumbnail in (False, True):
            self.path(name, thumbnail).unlink(missing_ok=True)
