"""The server's VAPID key pair for Web Push, and who the push services should contact about it.

Invariants:
- The key comes from VAPID_PRIVATE_KEY (PEM or raw base64url) or is generated once into
  instance/vapid_private_key.pem (mode 0600, created exclusively) and reused, like the other secrets
  (web/config.py); it is read once per app and kept in app.extensions.
"""
import os

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid, b64urlencode

KEY_FILE = "vapid_private_key.pem"


def vapid(app) -> Vapid:
    """The server's VAPID key: from the environment, else generated once into the instance folder."""
    if "vapid" in app.extensions:
        return app.extensions["vapid"]
    configured = app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        key = Vapid.from_pem(configured.encode()) if "-----BEGIN" in configured else Vapid.from_string(configured)
    else:
        path = os.path.join(app.instance_path, KEY_FILE)
        if not os.path.exists(path):
            os.makedirs(app.instance_path, exist_ok=True)
            generated = Vapid()
            generated.generate_keys()
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(generated.private_pem())
        key = Vapid.from_file(path)
    app.extensions["vapid"] = key
    return key


def public_key(app) -> str:
    """The VAPID public key as the browser's applicationServerKey wants it (base64url, uncompressed point)."""
    raw = vapid(app).public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64urlencode(raw)


def subject(app) -> str:
    """Who runs this server, for the push services: VAPID_SUBJECT, else the HTTPS origin."""
    origin = app.config["WEBAUTHN_ORIGIN"]
    return app.config.get("VAPID_SUBJECT") or (origin if origin.startswith("https://") else "mailto:beheer@localhost")
