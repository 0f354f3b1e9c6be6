"""Receipt photos: from untrusted upload bytes to a clean JPEG and thumbnail, and their files on disk.

Invariants:
- Only JPEG, PNG, WebP and HEIC (iPhone) are decoded, recognised by their first bytes before Pillow
  sees them, and Pillow may only use the decoder of that format (no guessing, no other plugins).
- An image above MAX_PIXELS is refused from its header, before its pixels are decoded: a decompression
  bomb is a RuleViolation, never a crash or a hang. Pillow's own bomb warning counts as an error too.
  A truncated file is refused (Pillow's LOAD_TRUNCATED_IMAGES is never switched on).
- What is stored is a new JPEG built from the pixels only, after the EXIF orientation is applied:
  no EXIF, GPS, XMP, ICC or comment of the upload survives. Its longest side is at most MAX_SIDE.
- Files are named by 32 random hex characters, never by anything the phone sent, and live in one
  folder outside static/; `ReceiptFiles.write` is called only after every check passed.
"""
import io
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

MAX_PIXELS = 50_000_000     # a 50-megapixel photo; phones' default photos are 12–24
MAX_SIDE = 1600             # what the browser shrinks to; uploads without JavaScript are shrunk here
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
            image = Image.open(io.BytesIO(data), formats=[kind])
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise RuleViolation(_l("Deze foto heeft te veel pixels. Maak een nieuwe foto met de camera."),
                            field="photo") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise RuleViolation(_l("Deze foto is beschadigd of niet compleet. Maak de foto opnieuw."),
                            field="photo") from error
    return _re_encode(image)


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
