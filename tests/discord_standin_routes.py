"""The REST routes the Discord stand-in answers (one ``_route_*`` method each; the table is in
``discord_standin``), bar the interaction callback (``discord_standin_interactions``)."""

from __future__ import annotations

from tests import discord_standin_rules as rules
from tests.discord_standin_checks import check_message
from tests.discord_standin_commands import check_commands
from tests.discord_standin_rules import (
    EPHEMERAL,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    ApiError,
    Channel,
    Form,
    Interaction,
    Json,
    Message,
    Webhook,
    bad,
    missing_access,
    under,
    unknown,
)
from tests.discord_standin_state import FORUM_TYPES, Call, DiscordState


class RestApi(DiscordState):
    """Bot routes (login, channels, messages, forum posts, commands) and webhook routes."""

    gateway_url = ""  # the stand-in's gateway (ws://…/gateway), once it serves

    # -- bot routes ------------------------------------------------------------------------------

    async def _route_get_me(self, call: Call) -> Json:
        return self.bot_user

    async def _route_get_application(self, call: Call) -> Json:
        return {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.bot_user | {"id": "1", "username": "owner", "bot": False},
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "bot": self.bot_user,
        }

    async def _route_get_gateway(self, call: Call) -> Json:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    async def _route_get_channel(self, call: Call) -> Json:
        return self.channel_json(self._channel(call.params["channel_id"], write=False))

    async def _route_post_message(self, call: Call) -> Json:
        channel = self._channel(call.params["channel_id"])
        if channel.type in FORUM_TYPES:
            raise bad(50008, "Cannot send messages in a non-text channel")
        checked = check_message(call.object())
        return self.message_json(self._store(channel, checked))

    async def _route_get_message(self, call: Call) -> Json:
        channel = self._channel(call.params["channel_id"], write=False)
        return self.message_json(self._message_in(channel.id, call.params["message_id"]))

    async def _route_edit_message(self, call: Call) -> Json:
        channel = self._channel(call.params["channel_id"])
        message = self._message_in(channel.id, call.params["message_id"])
        if message.webhook_id is not None:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        return self._edit(message, call.object(), SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS)

    async def _route_delete_message(self, call: Call) -> None:
        channel = self._channel(call.params["channel_id"])
        self._message_in(channel.id, call.params["message_id"]).deleted = True

    async def _route_post_thread(self, call: Call) -> Json:
        """A forum post (a thread and its first message, which shares the thread's id), or a thread
        without a message in a text or news channel."""
        parent, body, form = self._channel(call.params["channel_id"]), call.object(), Form()
        name = form.string(body.get("name"), ("name",), 1, 100)
        if body.get("auto_archive_duration", 4320) not in (60, 1440, 4320, 10080):
            form.add(
                ("auto_archive_duration",),
                "BASE_TYPE_CHOICES",
                "Value must be one of {60, 1440, 4320, 10080}.",
            )
        for index, _ in enumerate(form.array(body.get("applied_tags"), ("applied_tags",), 5)):
            form.add(("applied_tags", index), "UNKNOWN_TAG", "Unknown tag")  # the stand-in's forums have none
        if parent.type in FORUM_TYPES and not isinstance(body.get("message"), dict):
            form.add(("message",), "BASE_TYPE_REQUIRED", "This field is required")
        form.done()
        if parent.type in rules.THREAD_TYPES:
            raise bad(50024, "Cannot execute action on this channel type")
        if parent.type not in FORUM_TYPES:
            kind = body.get("type", 12) if parent.type == 0 else 10
            return self.channel_json(self.add_thread(parent.id, str(name), type=kind))
        try:
            checked = check_message(body["message"])
        except ApiError as error:
            raise under("message", error) from None
        thread = self.add_thread(parent.id, str(name))
        message = self._store(thread, checked, message_id=str(thread.id))
        return self.channel_json(thread) | {"message": self.message_json(message)}

    # -- application commands -----------------------------------------------------------------

    def _commands_key(self, call: Call) -> int | None:
        self._application(call)
        if "guild_id" not in call.params:
            return None
        guild = self.guilds.get(int(call.params["guild_id"]))
        if guild is None or not guild.commands_scope:
            raise missing_access()
        return guild.id

    async def _route_get_commands(self, call: Call) -> list[Json]:
        return self.commands.get(self._commands_key(call), [])

    async def _route_put_commands(self, call: Call) -> list[Json]:
        key = self._commands_key(call)
        before = {(c["type"], c["name"]): c["id"] for c in self.commands.get(key, [])}
        stored = []
        for command in check_commands(call.body):
            kind = command.get("type", 1)
            saved: Json = {"type": kind, "description": "", "options": []} | command
            saved |= {
                "id": before.get((kind, command["name"])) or next(self._ids),
                "application_id": str(self.application_id),
                "version": next(self._ids),
                "default_member_permissions": _digits(command.get("default_member_permissions")),
                "nsfw": command.get("nsfw", False),
            }
            if key is not None:
                saved["guild_id"] = str(key)
                saved.pop("dm_permission", None)
            stored.append(saved)
        self.commands[key] = stored
        return stored

    # -- webhooks and interactions ------------------------------------------------------------

    async def _route_get_webhook(self, call: Call) -> Json:
        hook, _ = self._hook(call)
        if hook is None:
            raise unknown("Webhook")
        channel = self.channels[hook.channel_id]
        return {
            "id": str(hook.id),
            "type": 1,
            "guild_id": str(channel.guild_id),
            "channel_id": str(channel.id),
            "name": hook.name,
            "avatar": None,
            "token": hook.token,
            "application_id": None,
        }

    async def _route_execute_webhook(self, call: Call) -> Json | None:
        hook, interaction = self._hook(call)
        body, form = call.object(), Form()
        username = form.string(body.get("username"), ("username",), 0, 80)
        if username and any(word in username.lower() for word in ("discord", "clyde")):
            form.add(("username",), "USERNAME_INVALID_CONTAINS", "Username cannot contain discord or clyde")
        form.string(body.get("avatar_url"), ("avatar_url",))
        form.string(body.get("thread_name"), ("thread_name",), 0, 100)
        form.done()
        wait = call.flag("wait")
        if interaction is not None:  # a follow-up message
            checked = check_message(body, flags_allowed=SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | EPHEMERAL)
            channel = self.channels[interaction.channel_id]
            found = self._store(
                channel, checked, webhook_id=self.application_id, interaction_id=interaction.id
            )
            return self.message_json(found)
        assert hook is not None
        channel = self._webhook_channel(hook, call.query.get("thread_id"), body.get("thread_name"))
        checked = check_message(body)
        if channel.type in FORUM_TYPES:
            channel = self.add_thread(channel.id, body["thread_name"])
            found = self._store(
                channel, checked, message_id=str(channel.id), webhook_id=hook.id, username=username
            )
        else:
            found = self._store(channel, checked, webhook_id=hook.id, username=username)
        return self.message_json(found) if wait else None

    def _webhook_channel(self, hook: Webhook, thread_id: str | None, thread_name: str | None) -> Channel:
        channel = self.channels[hook.channel_id]
        forum = channel.type in FORUM_TYPES
        if forum and not thread_id and not thread_name:
            raise bad(220001, "Webhooks posted to forum channels must have a thread_name or thread_id")
        if forum and thread_id and thread_name:
            raise bad(
                220002, "Webhooks posted to forum channels cannot have both a thread_name and thread_id"
            )
        if thread_name and not forum:
            raise bad(220003, "Webhooks can only create threads in forum channels")
        return self.channels[self._hook_place(hook, thread_id)]

    def _hook_message(self, call: Call) -> tuple[Message | None, Interaction | None]:
        hook, interaction = self._hook(call)
        wanted = call.params["message_id"]
        if interaction is not None and wanted == "@original":
            if interaction.response_type not in (4, 5, 6, 7):
                raise unknown("Message")
            if interaction.original_id is None:
                return None, interaction  # deferred: the first edit writes it
            return self._message(interaction.original_id), interaction
        found = self._message(wanted)
        if found.webhook_id != (hook.id if hook else self.application_id):  # not this webhook's
            raise unknown("Message")
        if hook is not None and found.channel_id != self._hook_place(hook, call.query.get("thread_id")):
            raise unknown("Message")  # in a thread (a forum post) but no thread_id, or another one
        return found, interaction

    def _hook_place(self, hook: Webhook, thread_id: str | None) -> int:
        """Where a webhook's message routes look: its channel, or the thread ``thread_id`` of it."""
        if not thread_id:
            return hook.channel_id
        if not rules.SNOWFLAKE.fullmatch(thread_id):
            raise rules.form_error(
                [(("thread_id",), "NUMBER_TYPE_COERCE", f'Value "{thread_id}" is not snowflake.')]
            )
        thread = self.channels.get(int(thread_id))
        if thread is None or thread.parent_id != hook.channel_id or thread.state == "deleted":
            raise unknown("Channel")
        return thread.id

    async def _route_get_hook_message(self, call: Call) -> Json:
        found, _ = self._hook_message(call)
        if found is None:
            raise unknown("Message")
        return self.message_json(found)

    async def _route_edit_hook_message(self, call: Call) -> Json:
        found, interaction = self._hook_message(call)
        flags = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS
        if found is not None:
            return self._edit(found, call.object(), flags)
        assert interaction is not None
        checked = check_message(call.object(), flags_allowed=flags | EPHEMERAL)
        checked["flags"] |= interaction.flags  # as deferred
        channel = self.channels[interaction.channel_id]
        found = self._store(channel, checked, webhook_id=self.application_id, interaction_id=interaction.id)
        interaction.original_id = found.id
        return self.message_json(found)

    async def _route_delete_hook_message(self, call: Call) -> None:
        found, _ = self._hook_message(call)
        if found is None:
            raise unknown("Message")
        found.deleted = True


def _digits(value: object) -> str | None:
    """Permissions as Discord answers them: a string of digits, whether sent as one or a number."""
    return None if value is None else str(value)
