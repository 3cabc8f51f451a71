"""Interactions in the Discord stand-in: users invoking commands (attachments included),
autocompletion, buttons and modal submits (``interaction`` makes the INTERACTION_CREATE payload
the gateway would deliver), and the bot's callback. Follow-ups and ``@original`` edits go through
the webhook routes; attachments and modals are ``discord_standin_uploads``'."""

from __future__ import annotations

import secrets
import time
from typing import Any

from tests import discord_standin_rules as rules
from tests.discord_standin_commands import check_response
from tests.discord_standin_rules import (
    EPHEMERAL,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    ApiError,
    Interaction,
    InteractionResponse,
    Json,
    bad,
    under,
    unknown,
)
from tests.discord_standin_state import Call
from tests.discord_standin_uploads import ATTACHMENT, UploadApi

KINDS = {"command": 2, "component": 3, "autocomplete": 4, "modal": 5}


class InteractionApi(UploadApi):
    """Simulated users' interactions and the callback route."""

    def interaction(
        self,
        kind: str,
        channel_id: int,
        *,
        name: str = "",
        options: dict[str, Any] | None = None,
        focused: str | None = None,
        message_id: str | None = None,
        custom_id: str | None = None,
        user_id: int = 42,
        locale: str = "en-US",
        roles: tuple[int, ...] = (),
        opened_by: int | None = None,
        values: dict[str, str] | None = None,
    ) -> Json:
        """An INTERACTION_CREATE payload: "command" or "autocomplete" (``name`` of a synced command,
        "group sub" for subcommands, ``options`` by name, an attachment's value what ``attach``
        returned, ``focused`` the one being typed), "component" (``custom_id`` of a button on
        ``message_id``) or "modal" (``values`` typed into the modal the interaction ``opened_by``
        answered with). ``roles``: the member's roles. Feed it to discord.py with
        ``client._connection.parse_interaction_create(payload)``, as the gateway would."""
        channel = self.channels[channel_id]
        if kind == "modal":
            opener = self.interactions.get(opened_by or 0)
            if opener is None or opener.modal is None:
                raise ValueError(f"interaction {opened_by} opened no modal")
            data: Json = self.modal_values(opener.modal, values or {})
        elif kind == "component":
            message = self._message_in(channel_id, str(message_id))
            ids = [c.get("custom_id") for row in message.components for c in row.get("components", [])]
            if custom_id not in ids:
                raise ValueError(f"message {message_id} has no component {custom_id!r}")
            data = {"custom_id": custom_id, "component_type": 2}
        elif kind == "autocomplete" and focused not in (options or {}):
            raise ValueError("an autocomplete interaction needs the focused option among the options")
        else:
            data = self._command_data(
                name, channel.guild_id, options or {}, focused if kind == "autocomplete" else None
            )
        interaction = Interaction(
            self.snowflake(), "", KINDS[kind], channel_id, channel.guild_id, time.monotonic()
        )
        interaction.token = f"aW50ZXJhY3Rpb246{interaction.id}.{secrets.token_urlsafe(48)}"
        if kind == "component":  # its @original is the message the component is on
            interaction.original_id = message.id
        self.interactions[interaction.id] = interaction
        user = {"id": str(user_id), "username": f"reader{user_id}", "discriminator": "0", "avatar": None}
        unknown_roles = [r for r in roles if r not in self.guilds[channel.guild_id].roles]
        if unknown_roles:
            raise ValueError(f"guild {channel.guild_id} has no roles {unknown_roles}; add_role first")
        member = {
            "user": user,
            "roles": [str(role) for role in roles],
            "joined_at": rules.iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
        }
        payload: Json = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": interaction.type,
            "token": interaction.token,
            "version": 1,
            "data": data,
            "guild_id": str(channel.guild_id),
            "channel_id": str(channel_id),
            "channel": self.channel_json(channel),
            "member": member | {"permissions": "2248473465835073", "pending": False},
            "app_permissions": "2248473465835073",
            "locale": locale,
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(channel.guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if kind == "component":
            payload["message"] = self.message_json(message)
        return payload

    def _command_data(self, name: str, guild_id: int, values: dict[str, Any], focused: str | None) -> Json:
        first, *subs = name.split()
        synced = [*self.commands.get(guild_id, []), *self.commands.get(None, [])]
        command = next((c for c in synced if c["name"] == first and c["type"] == 1), None)
        if command is None:
            raise ValueError(f"no synced command /{first} in guild {guild_id} or globally")
        data: Json = {"id": command["id"], "name": first, "type": 1, "options": []}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        definitions, into = command.get("options", []), data["options"]
        for sub in subs:
            found = next((o for o in definitions if o["name"] == sub and o["type"] in (1, 2)), None)
            if found is None:
                raise ValueError(f"/{name}: no subcommand {sub!r}")
            node = {"name": sub, "type": found["type"], "options": []}
            into.append(node)
            definitions, into = found.get("options", []), node["options"]
        by_name = {o["name"]: o for o in definitions}
        for key, value in values.items():
            if key not in by_name:
                raise ValueError(f"/{name} has no option {key!r}")
            kind = by_name[key]["type"]
            if kind == ATTACHMENT:
                value = self._attachment_option(value, data.setdefault("resolved", {}))
            option = {"name": key, "type": kind, "value": value}
            into.append(option | ({"focused": True} if key == focused else {}))
        return data

    async def _route_callback(self, call: Call) -> Json | None:
        interaction = self.interactions.get(int(call.params["interaction_id"]))
        if interaction is None or interaction.token != call.params["interaction_token"]:
            raise unknown("interaction")
        if interaction.response_type is not None:
            raise bad(40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.created > self.interaction_timeout:
            raise unknown("interaction")
        kind, data = check_response(call.body, interaction.type)
        found = None
        if kind == 4:
            channel = self.channels[interaction.channel_id]
            found = self._store(channel, data, webhook_id=self.application_id, interaction_id=interaction.id)
            interaction.original_id = found.id
        elif kind == 9:  # a modal: its submit may come
            interaction.modal = data
        elif kind == 7 and data:  # update the component's message
            found = self._message(interaction.original_id)
            try:
                self._edit(found, data, SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS)
            except ApiError as error:
                raise under("data", error) from None
        interaction.response_type, interaction.flags = kind, (data.get("flags") or 0) & EPHEMERAL
        self.interaction_responses.append(InteractionResponse(interaction.id, kind, data, time.monotonic()))
        if not call.flag("with_response"):
            return None
        flags = data.get("flags") or 0
        answer: Json = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            },
            "resource": {"type": kind},
        }
        if found is not None:
            answer["interaction"]["response_message_id"] = found.id
            answer["resource"]["message"] = self.message_json(found)
        return answer
