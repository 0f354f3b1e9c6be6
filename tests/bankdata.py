"""Where the shared bank statement samples are (../shared/bankdata, see its SOURCES.md), for the reader tests.

$BANKDATA_DIR, else the checkout's sibling ../shared/bankdata, else /work/shared/bankdata; None in a clone
elsewhere without them, and then the sample tests skip (`needs_samples`)."""
import os
from pathlib import Path

import pytest


def _bankdata() -> Path | None:
    candidates = [Path(os.environ["BANKDATA_DIR"])] if os.environ.get("BANKDATA_DIR") else []
    candidates += [Path(__file__).resolve().parents[2] / "shared" / "bankdata", Path("/work/shared/bankdata")]
    return next((c for c in candidates if all((c / kind).is_dir() for kind in ("camt053", "camt054", "mt940"))),
                None)


BANKDATA = _bankdata()
needs_samples = pytest.mark.skipif(BANKDATA is None, reason="the shared bank data samples are not here")
