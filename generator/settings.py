"""Settings read from the environment, in one place: the Hub endpoint and token, and GitHub's run variables.

Read when a stage runs (``Settings()``), never at import, so a test or a workflow step that sets a
variable sees it honoured. The token is a ``SecretStr``: it never appears in a ``repr`` or a log line.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from generator.vocabulary import HUB_URL


class Settings(BaseSettings):
    """``HF_ENDPOINT``, ``HF_TOKEN`` and the ``GITHUB_*`` variables of an Actions run."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=True, env_ignore_empty=True)

    hf_endpoint: str = Field(default=HUB_URL, validation_alias="HF_ENDPOINT")
    hf_token: SecretStr | None = Field(default=None, validation_alias="HF_TOKEN")
    github_repository: str | None = Field(default=None, validation_alias="GITHUB_REPOSITORY")
    github_server_url: str | None = Field(default=None, validation_alias="GITHUB_SERVER_URL")
    github_run_id: str | None = Field(default=None, validation_alias="GITHUB_RUN_ID")

    @field_validator("hf_endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return value.strip().rstrip("/") or HUB_URL

    @field_validator("hf_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        token = value.get_secret_value().strip() if value is not None else ""
        return SecretStr(token) if token else None

    @property
    def repository_url(self) -> str | None:
        """The address of the repository the workflow runs in, when GitHub says it."""
        parts = (self.github_server_url, self.github_repository)
        return "{}/{}".format(*parts) if all(parts) else None

    @property
    def run_url(self) -> str | None:
        """The address of the current Actions run, when all three variables are set."""
        parts = (self.github_server_url, self.github_repository, self.github_run_id)
        return "{}/{}/actions/runs/{}".format(*parts) if all(parts) else None
