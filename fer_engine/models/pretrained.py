"""Hub weights for `pretrained=True`, found without ever hanging.

Decision: the Hugging Face cache is tried first (works offline once the weights were
fetched); then, unless offline mode is on (`HF_HUB_OFFLINE=1` or `FER_STUDIO_OFFLINE=1`),
a reachability probe of the hub host bounded to a few seconds, and only if it answers, the
download. Any failure raises `PretrainedUnavailable`
with the reason; `create_model` turns it into a note and continues from random init, so a
run never blocks on the network and the user is told how to fix it.
"""
from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlparse

HUB_TIMEOUT_S = 5.0  # connection/metadata timeout of the single download attempt
_TRUE = {"1", "on", "yes", "true"}


class PretrainedUnavailable(RuntimeError):
    """Hub weights could not be had; the message says why."""


def hub_offline() -> bool:
    """Offline mode, read at call time (tests and users may set it after import)."""
    if any(os.environ.get(k, "").strip().lower() in _TRUE
           for k in ("HF_HUB_OFFLINE", "FER_STUDIO_OFFLINE")):
        return True
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def hub_weights_file(timm_name: str) -> str:
    """Local path of timm's default pretrained weights for `timm_name` (cache, then download)."""
    import timm
    from huggingface_hub import hf_hub_download

    cfg = timm.models.get_pretrained_cfg(timm_name)
    repo = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if not repo:
        raise PretrainedUnavailable(f"timm lists no hub weights for {timm_name!r}")
    filenames = ["model.safetensors", "pytorch_model.bin"]
    for name in filenames:
        try:
            return hf_hub_download(repo, name, local_files_only=True)
        except Exception:  # noqa: BLE001 - not cached (or cache unreadable): try the next name / the network
            continue
    if hub_offline():
        raise PretrainedUnavailable(f"offline mode is on and {repo} is not in the Hugging Face cache")
    _check_reachable()
    last: Exception | None = None
    for name in filenames:
        try:
            return hf_hub_download(repo, name, etag_timeout=HUB_TIMEOUT_S)
        except Exception as e:  # noqa: BLE001 - repo/file missing, connection lost, disk full: all mean "not now"
            last = e
    reason = str(last).strip().rstrip(".")
    raise PretrainedUnavailable(f"could not download {repo} ({type(last).__name__}: {reason})")


def _check_reachable() -> None:
    """Fail fast when the hub's host cannot be reached (the hub client itself retries with
    back-off for about a minute). Run in a daemon thread so even a stuck DNS lookup is bounded."""
    from huggingface_hub import constants

    parsed = urlparse(constants.ENDPOINT)
    host, port = parsed.hostname or "huggingface.co", parsed.port or (443 if parsed.scheme == "https" else 80)
    outcome: list[BaseException | None] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=HUB_TIMEOUT_S).close()
            outcome.append(None)
        except OSError as e:
            outcome.append(e)

    worker = threading.Thread(target=probe, name="hub-probe", daemon=True)
    worker.start()
    worker.join(HUB_TIMEOUT_S + 1)
    if not outcome:
        raise PretrainedUnavailable(f"no answer from {host} within {HUB_TIMEOUT_S:.0f} s")
    if outcome[0] is not None:
        raise PretrainedUnavailable(f"cannot reach {host} ({outcome[0]})")
