"""Releases: which files of the catalog one release publishes, and its other versions.

A release (data/releases/<id>.yaml) is one version of a publisher's named set of LoRAs, such as lightx2v's
Wan2.2-Lightning V1.1. Its files name it (``release:`` in data/loras/), whichever repository publishes them
(Comfy-Org's repackaged copies, Kijai's conversions); the versions of one release share publisher and name.
A setting a source cites for one version may be shown on another version's page only with that label: which
version it was cited for. The site and the how-to-run pages read the relations here.

Pure: functions of the validated catalog, in catalog order.
"""

from __future__ import annotations

from generator.catalog import models as m
from generator.catalog.validate import Catalog


def files_of(catalog: Catalog, release: m.Release) -> tuple[m.Lora, ...]:
    """The LoRA entries of the release, in catalog order."""
    return tuple(lora for lora in catalog.loras if lora.release == release.id)


def release_of(catalog: Catalog, lora: m.Lora) -> m.Release | None:
    """The release the LoRA's file belongs to, when the entry names one."""
    return catalog.release(lora.release) if lora.release is not None else None


def other_versions(catalog: Catalog, release: m.Release) -> tuple[m.Release, ...]:
    """The catalog's other versions of the same release (same publisher and name), in catalog order."""
    return tuple(
        other
        for other in catalog.releases
        if other.id != release.id and (other.publisher, other.name) == (release.publisher, release.name)
    )


def version_label(catalog: Catalog, cited: m.Lora, shown: m.Lora) -> str | None:
    """How a setting cited for ``cited`` is labelled on ``shown``'s page: None when it is the same version
    (or no release is known), else 'cited for V1.1 of lightx2v Wan2.2-Lightning, not this file's 250928'."""
    theirs, ours = release_of(catalog, cited), release_of(catalog, shown)
    if theirs is None or ours is None or theirs.id == ours.id:
        return None
    if (theirs.publisher, theirs.name) != (ours.publisher, ours.name):
        return f"cited for {theirs.title}, another release"
    return f"cited for version {theirs.version} of {theirs.publisher} {theirs.name}, not this file's {ours.version}"
