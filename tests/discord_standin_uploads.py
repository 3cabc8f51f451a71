"""Files and forms in the Discord stand-in: attachments users give a command, and modals.

- ``attach(data, filename)`` is a file a user picked for an ``ATTACHMENT`` option (type 11): it
  goes into the command's ``resolved.attachments`` and is served, as Discord's CDN serves it, at
  its ``url`` on 127.0.0.1 (``GET /attachments/{id}/{filename}``; anything else is 404). Discord's
  client refuses a file over the upload limit (the interaction's ``attachment_size_limit``,
  10 MiB without boosts), so ``attach`` does too. ``downloads`` records what was fetched.
- A modal (response type 9) is remembered with the interaction that opened it; ``modal_values``
  checks a submit as Discord's client does (only that modal's text inputs, within their
  ``min_length``/``max_length``, the required ones filled) and makes the MODAL_SUBMIT data.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.discord_standin_routes import RestApi
from tests.discord_standin_rules import Json, Upload

#: What a server without boosts lets a member upload (the interaction's attachment_size_limit).
UPLOAD_LIMIT = 10 * 1024 * 1024
ATTACHMENT = 11
TEXT_INPUT = 4


class UploadApi(RestApi):
    """Attachments and modals; ``InteractionApi`` puts them into interactions."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.uploads: dict[int, Upload] = {}
        self.downloads: list[tuple[int, int]] = []  # (attachment id, bytes served)
        self.root = ""  # http://127.0.0.1:PORT, set when the server starts

    def attach(self, data: bytes, filename: str, content_type: str | None = "text/plain") -> Json:
        """A file a user picked for a command's attachment option: pass it as the option's value."""
        if len(data) > UPLOAD_LIMIT:
            raise ValueError(f"Discord's client does not upload {len(data):,} bytes (limit {UPLOAD_LIMIT:,})")
        upload = Upload(self.snowflake(), filename, data, content_type)  # type: ignore[attr-defined]
        upload.url = f"{self.root}/attachments/{upload.id}/{filename}"
        self.uploads[upload.id] = upload
        return self.attachment_json(upload)

    @staticmethod
    def attachment_json(upload: Upload) -> Json:
        found: Json = {
            "id": str(upload.id),
            "filename": upload.filename,
            "size": len(upload.data),
            "url": upload.url,
            "proxy_url": upload.url,
            "ephemeral": True,
        }
        if upload.content_type:
            found["content_type"] = upload.content_type
        return found

    def _attachment_option(self, value: Any, resolved: Json) -> str:
        """An attachment option's value (``attach``'s answer) as the id Discord sends."""
        if not isinstance(value, dict) or int(value.get("id", 0)) not in self.uploads:
            raise ValueError("an attachment option takes what api.attach(...) returned")
        resolved.setdefault("attachments", {})[value["id"]] = value
        return str(value["id"])

    async def _download(self, request: web.Request) -> web.StreamResponse:
        upload = self.uploads.get(int(request.match_info["id"]))
        if upload is None or upload.filename != request.match_info["filename"]:
            raise web.HTTPNotFound(text="Not Found")
        kind = upload.content_type or "application/octet-stream"
        response = web.StreamResponse(headers={"Content-Type": kind})
        response.content_length = len(upload.data)
        await response.prepare(request)
        sent = 0
        try:
            for start in range(0, len(upload.data), 64 * 1024):
                chunk = upload.data[start : start + 64 * 1024]
                await response.write(chunk)
                sent += len(chunk)
        finally:
            self.downloads.append((upload.id, sent))
        await response.write_eof()
        return response

    def modal_values(self, modal: Json, values: dict[str, str]) -> Json:
        """The MODAL_SUBMIT data for ``values`` typed into ``modal``'s text inputs."""
        inputs = {
            child["custom_id"]: child
            for row in modal.get("components", [])
            for child in row.get("components", [])
            if child.get("type") == TEXT_INPUT
        }
        unknown = set(values) - set(inputs)
        if unknown:
            raise ValueError(f"the modal has no text input {sorted(unknown)}")
        rows = []
        for custom_id, spec in inputs.items():
            value = values.get(custom_id, "")
            if spec.get("required", True) and not value:
                raise ValueError(f"Discord's client does not submit the modal with {custom_id!r} empty")
            low, high = spec.get("min_length", 0), spec.get("max_length", 4000)
            if value and not low <= len(value) <= high:
                raise ValueError(f"Discord's client takes {low} to {high} characters in {custom_id!r}")
            typed = {"type": TEXT_INPUT, "custom_id": custom_id, "value": value}
            rows.append({"type": 1, "components": [typed]})
        return {"custom_id": modal["custom_id"], "components": rows}
