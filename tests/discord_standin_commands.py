"""Application commands and interaction responses, as the Discord stand-in checks them.

A bulk overwrite (``PUT /applications/{id}/commands``) is refused whole with 400 code 50035 and an
``errors`` object keyed by the command's index, which discord.py turns into ``CommandSyncFailure``.
Rules (Discord's reference): chat-input names are 1-32 lowercase letters, digits, ``-`` or ``_``
(any script's letters, as Discord allows), descriptions 1-100; ≤25 options, required ones first;
≤25 choices, only on string, integer and number options, never with ``autocomplete``; subcommand
groups hold only subcommands, one level deep; names unique per level; ≤100 chat-input commands and
≤5 each of user and message commands. An autocomplete result offers ≤25 choices.
"""

from __future__ import annotations

import re
from typing import Any

from tests.discord_standin_checks import check_components, check_message
from tests.discord_standin_rules import (
    EPHEMERAL,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    ApiError,
    Form,
    Json,
    Path,
    bad,
    under,
)

CHAT_INPUT, USER, MESSAGE = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, NUMBER = 1, 2, 3, 4, 10
CHOOSABLE = (STRING, INTEGER, NUMBER)
NAME = re.compile(r"[-_\w]{1,32}")
MAX_COMMANDS = {CHAT_INPUT: 100, USER: 5, MESSAGE: 5}
#: Which responses each interaction type takes: ping, command, component, autocomplete, modal submit.
RESPONSES = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


def _name(form: Form, value: Any, path: Path, *, chat_input: bool = True) -> None:
    if not isinstance(value, str):
        form.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    elif chat_input and (not NAME.fullmatch(value) or value != value.lower()):
        form.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    elif not chat_input and not 1 <= len(value) <= 32:
        form.add(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")


def check_commands(payload: Any) -> list[Json]:
    """The commands of a bulk overwrite, or the 400 Discord answers."""
    form = Form()
    if not isinstance(payload, list):
        form.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        form.done()
    seen: set[tuple[int, str]] = set()
    counts = dict.fromkeys(MAX_COMMANDS, 0)
    for path, command in form.objects(payload, ()):
        kind = command.get("type", CHAT_INPUT)
        if kind not in MAX_COMMANDS:
            form.add((*path, "type"), "BASE_TYPE_CHOICES", f"Value must be one of {set(MAX_COMMANDS)}.")
            continue
        counts[kind] += 1
        name = command.get("name")
        _name(form, name, (*path, "name"), chat_input=kind == CHAT_INPUT)
        if (kind, str(name)) in seen:
            form.add(
                (*path, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add((kind, str(name)))
        if kind == CHAT_INPUT:
            form.string(command.get("description"), (*path, "description"), 1, 100)
            _options(form, command.get("options"), (*path, "options"), depth=0)
        else:
            if command.get("description"):
                form.add((*path, "description"), "BASE_TYPE_BAD_LENGTH", "Must be between 0 and 0 in length.")
            if command.get("options"):
                form.add((*path, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 0 or fewer in length.")
        permissions = command.get("default_member_permissions")
        if permissions is not None and not str(permissions).isdigit():  # "16" or 16 (discord.py's)
            form.add(
                (*path, "default_member_permissions"), "NUMBER_TYPE_COERCE", "Must be a string of digits."
            )
        for flag in ("dm_permission", "nsfw"):
            form.boolean(command.get(flag), (*path, flag))
        for key, allowed in (("contexts", (0, 1, 2)), ("integration_types", (0, 1))):
            for index, value in enumerate(form.array(command.get(key), (*path, key))):
                if value not in allowed:
                    form.add(
                        (*path, key, index), "BASE_TYPE_CHOICES", f"Value must be one of {set(allowed)}."
                    )
    for kind, count in counts.items():
        if count > MAX_COMMANDS[kind]:
            form.done()
            raise bad(30032, f"Maximum number of application commands reached ({MAX_COMMANDS[kind]})")
    form.done()
    return list(payload)


def _options(form: Form, options: Any, path: Path, depth: int) -> None:
    """``depth`` 0: a command's options; 1: a group's or subcommand's; 2: a grouped subcommand's."""
    found = form.objects(options, path, 25)
    kinds = [option.get("type") for _, option in found]
    subs = [kind in (SUB_COMMAND, SUB_COMMAND_GROUP) for kind in kinds]
    if any(subs) and not all(subs):
        form.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Subcommands cannot be mixed with other options.",
        )
    names: set[str] = set()
    optional_seen = False
    for at, option in found:
        kind = option.get("type")
        if not isinstance(kind, int) or not 1 <= kind <= 11:
            form.add((*at, "type"), "BASE_TYPE_CHOICES", "Value must be one of 1..11.")
            continue
        _name(form, option.get("name"), (*at, "name"))
        if option.get("name") in names:
            form.add(
                (*at, "name"), "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Option names must be unique"
            )
        names.add(str(option.get("name")))
        form.string(option.get("description"), (*at, "description"), 1, 100)
        if kind == SUB_COMMAND_GROUP:
            if depth > 0:
                form.add(
                    (*at, "type"), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Groups cannot be nested."
                )
            _groups_hold_subcommands(form, option.get("options"), (*at, "options"))
            _options(form, option.get("options"), (*at, "options"), depth + 1)
        elif kind == SUB_COMMAND:
            if depth > 1:
                form.add(
                    (*at, "type"), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommands cannot be nested."
                )
            _options(form, option.get("options"), (*at, "options"), 2)
            if any(
                o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)
                for _, o in form.objects(option.get("options"), ())
            ):
                form.add(
                    (*at, "options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Subcommands hold plain options.",
                )
        else:
            required = option.get("required", False)
            form.boolean(required, (*at, "required"))
            if required and optional_seen:
                form.add(
                    (*at, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
            optional_seen = optional_seen or not required
            _choices(form, option, at)


def _groups_hold_subcommands(form: Form, options: Any, path: Path) -> None:
    for at, option in form.objects(options, path):
        if option.get("type") != SUB_COMMAND:
            form.add(
                (*at, "type"), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Groups hold only subcommands."
            )


def _choices(form: Form, option: Json, at: Path) -> None:
    kind, choices = option.get("type"), option.get("choices")
    autocomplete = option.get("autocomplete", False)
    form.boolean(autocomplete, (*at, "autocomplete"))
    if choices and autocomplete:
        form.add(
            (*at, "autocomplete"),
            "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE_EXCLUSIVE",
            "Autocomplete and choices are mutually exclusive",
        )
    if (choices or autocomplete) and kind not in CHOOSABLE:
        form.add(
            at,
            "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
            "Only string, integer and number options take choices or autocomplete.",
        )
    check_choices(form, choices, (*at, "choices"), kind)
    for key in ("min_length", "max_length"):
        if key in option and (kind != STRING or form.integer(option[key], (*at, key), 0, 6000) is None):
            form.add(
                (*at, key), "APPLICATION_COMMAND_OPTION_INVALID", f"{key} fits string options only (0-6000)."
            )
    for key in ("min_value", "max_value"):
        if key in option and kind not in (INTEGER, NUMBER):
            form.add(
                (*at, key),
                "APPLICATION_COMMAND_OPTION_INVALID",
                f"{key} fits integer and number options only.",
            )
    if "channel_types" in option and kind != 7:
        form.add(
            (*at, "channel_types"),
            "APPLICATION_COMMAND_OPTION_INVALID",
            "channel_types fits channel options only.",
        )


def check_choices(form: Form, choices: Any, path: Path, kind: Any = None) -> list[Json]:
    """≤25 choices, names 1-100; values as the option's type: strings of ≤100, integers, numbers."""
    found = form.objects(choices, path, 25)
    for at, choice in found:
        form.string(choice.get("name"), (*at, "name"), 1, 100)
        value = choice.get("value")
        if isinstance(value, str) and kind in (None, STRING):
            form.string(value, (*at, "value"), 1, 100)
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind == INTEGER and not isinstance(value, int))
        ):
            form.add((*at, "value"), "BASE_TYPE_CHOICES", "Value does not fit the option's type.")
    return [choice for _, choice in found]


# -- interaction responses -----------------------------------------------------------------


def check_response(payload: Any, interaction_type: int) -> tuple[int, Json]:
    """An interaction callback's type and data (a message, with 4), or the 400 Discord answers."""
    form = Form()
    if not isinstance(payload, dict):
        form.add((), "MODEL_TYPE_CONVERT", "Must be an object.")
        form.done()
    kind, data = payload.get("type"), payload.get("data")
    if kind not in RESPONSES[interaction_type]:
        form.add(
            ("type",),
            "INTERACTION_RESPONSE_TYPE_INVALID",
            f"Response type {kind!r} does not fit interaction type {interaction_type}.",
        )
    if data is not None and not isinstance(data, dict):
        form.add(("data",), "MODEL_TYPE_CONVERT", "Must be an object.")
    form.done()
    data = data or {}
    if kind == 4:  # a message: its errors are under "data"
        try:
            return kind, check_message(
                data, flags_allowed=SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | EPHEMERAL
            )
        except ApiError as error:
            raise under("data", error) from None
    if kind == 8:
        choices = check_choices(form, data.get("choices"), ("data", "choices"))
        form.done()
        return kind, {"choices": choices}
    if kind == 9:
        form.string(data.get("custom_id"), ("data", "custom_id"), 1, 100)
        form.string(data.get("title"), ("data", "title"), 1, 45)
        if not check_components(form, data.get("components"), ("data", "components"), modal=True):
            form.add(("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    form.integer(data.get("flags"), ("data", "flags"))
    form.done()
    return kind, data  # 7's data is an edit of the component's message: the caller checks it
