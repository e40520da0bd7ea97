"""The one door to huggingface_hub and its HTTP library: every import of them lives here.

huggingface_hub 2.x speaks HTTP through httpx2 and reads ``HF_ENDPOINT`` at import, so the API object
is always built with an explicit endpoint and token from :class:`~generator.settings.Settings`.
Private helpers of the client (rate-limit header parsing, the shared session, the safetensors metadata
types) are wrapped here, so a change in them touches one module.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
    SafetensorsParsingError,
)
from huggingface_hub.hf_api import ModelInfo, RepoFile
from huggingface_hub.utils._http import RateLimitInfo, get_session, parse_ratelimit_headers
from huggingface_hub.utils._safetensors import SafetensorsFileMetadata

from generator.lora.parse import TensorSpec
from generator.settings import Settings

__all__ = [
    "ClientTimeout",
    "DisabledRepoError",
    "GatedRepoError",
    "HfApi",
    "HfHubHTTPError",
    "HttpResponse",
    "ModelInfo",
    "RateLimitInfo",
    "RepoFile",
    "RepositoryNotFoundError",
    "RevisionNotFoundError",
    "SafetensorsParsingError",
    "TransportError",
    "add_response_hook",
    "header_from_hub",
    "make_api",
    "parse_ratelimit_headers",
]

HttpResponse = httpx2.Response
ClientTimeout = httpx2.TimeoutException
TransportError = httpx2.TransportError


def make_api(settings: Settings | None = None) -> HfApi:
    """An HfApi for ``HF_ENDPOINT`` and ``HF_TOKEN`` as the environment holds them now (not at import)."""
    settings = settings or Settings()
    token = settings.hf_token.get_secret_value() if settings.hf_token is not None else False
    return HfApi(endpoint=settings.hf_endpoint, token=token)


def add_response_hook(hook: Callable[[httpx2.Response], None]) -> None:
    """Add a response hook to huggingface_hub's shared HTTP client (once; the client is kept)."""
    session = get_session()
    hooks = session.event_hooks
    if hook not in hooks["response"]:
        session.event_hooks = {**hooks, "response": [*hooks["response"], hook]}


def header_from_hub(meta: SafetensorsFileMetadata) -> tuple[dict[str, TensorSpec], dict[str, str]]:
    """Adapt ``HfApi.parse_safetensors_file_metadata`` output to the shape the header analysis takes."""
    tensors = {
        name: TensorSpec(dtype=info.dtype, shape=tuple(info.shape))
        for name, info in sorted(meta.tensors.items())
    }
    return tensors, {k: meta.metadata[k] for k in sorted(meta.metadata or {})}
