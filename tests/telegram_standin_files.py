"""Files in the Telegram stand-in: users sending documents, ``getFile``, and the file download.

As in the Bot API: a message carries a ``document`` (``file_id``, ``file_unique_id``, name, MIME
type and size); ``getFile`` answers a ``File`` with a ``file_path``, refusing an unknown id
("invalid file_id") and a file over 20 MB, the most a bot may download ("file is too big"); the
file is then served at ``/file/bot<token>/<file_path>`` (the URL python-telegram-bot builds from
``base_file_url``), only with the bot's token and only for a path ``getFile`` handed out.
Every download is recorded in ``downloads`` (its path and the bytes served).

A bot sends a document with ``sendDocument``: the file uploaded in the multipart form (or a
``file_id`` it was given), at most 50 MB, a file name required, a caption of at most 1,024
characters after entity parsing; ``documents_sent`` records each one (``SentDocument``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.platform_rules import utf16
from tests.telegram_standin_rules import Json, Params, bad, check_markup, check_text

#: The most a bot may upload (Bot API: "Bots can currently send files of up to 50 MB in size").
SEND_LIMIT = 50 * 1024 * 1024
MAX_CAPTION = 1024

#: The most a bot may download through getFile (Bot API: "up to 20MB in size").
GET_FILE_LIMIT = 20 * 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """A file in a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class SentDocument:
    """A document sendDocument accepted."""

    chat_id: int
    message_id: int
    name: str | None
    data: bytes
    caption: str


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    data: bytes
    name: str | None
    mime_type: str | None
    path: str | None = None  # set by getFile


class Files:
    """Mixed into ``TelegramStandIn``: documents, getFile and downloads."""

    token: str
    chats: dict[int, Any]
    users: dict[int, Json]

    def _files_init(self) -> None:
        self.documents_sent: list[SentDocument] = []
        self.files: dict[str, StoredFile] = {}
        self.downloads: list[tuple[str, int]] = []  # (file_path, bytes served)
        self._file_numbers = itertools.count(1)

    def document(
        self, data: bytes, file_name: str | None, mime_type: str | None = "text/plain"
    ) -> StoredFile:
        number = next(self._file_numbers)
        stored = StoredFile(f"BQACAgIAAxkBAAI{number:06d}", f"AgAD{number:06d}", data, file_name, mime_type)
        self.files[stored.file_id] = stored
        return stored

    def _document_json(self, stored: StoredFile, *, announce_size: bool) -> Json:
        found: Json = {"file_id": stored.file_id, "file_unique_id": stored.unique_id}
        if stored.name is not None:
            found["file_name"] = stored.name
        if stored.mime_type is not None:
            found["mime_type"] = stored.mime_type
        if announce_size:
            found["file_size"] = len(stored.data)
        return found

    def user_sends_document(
        self,
        user_id: int,
        chat_id: int,
        data: bytes,
        file_name: str | None,
        *,
        mime_type: str | None = "text/plain",
        caption: str | None = None,
        announce_size: bool = True,
    ) -> Json:
        """Queue a ``message`` update carrying a document (``announce_size=False``: without its
        ``file_size``, which the Bot API allows)."""
        user, chat = self.users[user_id], self.chats[chat_id]
        if chat.type == "channel":
            raise ValueError("users do not write in channels; use channel_posts_document")
        stored = self.document(data, file_name, mime_type)
        message = self._message(chat, "", [], None, user)  # type: ignore[attr-defined]
        return self._queue_document("message", message, stored, caption, announce_size)

    def channel_posts_document(self, chat_id: int, data: bytes, file_name: str | None) -> Json:
        chat = self.chats[chat_id]
        if chat.type != "channel":
            raise ValueError(f"chat {chat_id} is a {chat.type}, not a channel")
        stored = self.document(data, file_name)
        message = self._message(chat, "", [], None, None)  # type: ignore[attr-defined]
        return self._queue_document("channel_post", message, stored, None, True)

    def _queue_document(
        self, kind: str, message: Json, stored: StoredFile, caption: str | None, announce_size: bool
    ) -> Json:
        del message["text"]
        message["document"] = self._document_json(stored, announce_size=announce_size)
        if caption:
            message["caption"] = caption
        return self._queue(kind, message)  # type: ignore[attr-defined,no-any-return]

    async def _api_send_document(self, params: Params) -> Json:
        chat = self._chat(params)  # type: ignore[attr-defined]
        given = params.raw.get("document")
        if isinstance(given, str):
            stored = self.files.get(given)
            if stored is None:
                raise bad("wrong file identifier/HTTP URL specified")
        elif isinstance(given, Upload):
            if not given.data:
                raise bad("file must be non-empty")
            if len(given.data) > SEND_LIMIT:
                raise bad("Request Entity Too Large")
            if not given.filename:
                raise bad("file name is empty")
            stored = self.document(given.data, given.filename, given.content_type)
        else:
            raise bad("there is no document in the request")
        caption, entities = "", []
        if params.string("caption"):
            caption, entities = check_text(params.string("caption"), params.string("parse_mode"))
            if utf16(caption) > MAX_CAPTION:
                raise bad("message caption is too long")
        markup = check_markup(params.json("reply_markup"))
        self._throttle("sendDocument", chat)  # type: ignore[attr-defined]
        message = self._message(chat, "", [], None, self.bot_user)  # type: ignore[attr-defined]
        del message["text"]
        message["document"] = self._document_json(stored, announce_size=True)
        if caption:
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        self.documents_sent.append(
            SentDocument(chat.id, message["message_id"], stored.name, stored.data, caption)
        )
        return message

    async def _api_get_file(self, params: Params) -> Json:
        stored = self.files.get(params.string("file_id") or "")
        if stored is None:
            raise bad("invalid file_id")
        if len(stored.data) > GET_FILE_LIMIT:
            raise bad("file is too big")
        if stored.path is None:
            suffix = "" if not stored.name or "." not in stored.name else "." + stored.name.rsplit(".", 1)[1]
            stored.path = f"documents/file_{stored.unique_id[4:]}{suffix}"
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.data),
            "file_path": stored.path,
        }

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """``GET /file/bot<token>/<file_path>``: the bytes of a file ``getFile`` handed out."""
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized(text="Unauthorized")
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.path == path), None)
        if stored is None:
            raise web.HTTPNotFound(text="Not Found")
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = len(stored.data)
        await response.prepare(request)
        sent = 0
        try:
            for start in range(0, len(stored.data), 64 * 1024):
                chunk = stored.data[start : start + 64 * 1024]
                await response.write(chunk)
                sent += len(chunk)
        finally:
            self.downloads.append((path, sent))
        await response.write_eof()
        return response
