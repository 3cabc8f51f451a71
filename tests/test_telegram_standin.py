"""The Telegram stand-in refuses what Telegram refuses, driven by the real python-telegram-bot client.

A bot test that passes against ``tests/telegram_standin.py`` then means something: bad HTML, long
texts, unknown chats and threads, flood and injected faults raise what PTB raises against Telegram
(``../shared/PLATFORM.md`` section 1), and PTB's own polling loop runs against it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, TelegramObject, Update
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.telegram_standin import TelegramStandIn

ADA, BOB, GROUP, FORUM, CHANNEL = 42, 7, -500, -1001234, -1009876
Scenario = Callable[[TelegramStandIn, telegram.Bot], Awaitable[None]]


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns when RetryAfter.retry_after is read as an int, and the suite makes warnings errors."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def waited(error: RetryAfter) -> float:
    """RetryAfter.retry_after in seconds (a timedelta under PTB_TIMEDELTA)."""
    assert isinstance(error.retry_after, dt.timedelta)
    return error.retry_after.total_seconds()


def play(scenario: Scenario, **options: Any) -> TelegramStandIn:
    """Run ``scenario`` against a fresh stand-in holding Ada, Bob, a group, a forum and a channel."""

    async def main() -> TelegramStandIn:
        async with TelegramStandIn(**options) as api:
            api.add_user(ADA, "Ada", "ada", language_code="ko")
            api.add_user(BOB, "Bob")
            api.add_chat(GROUP, "group", title="Readers", admins=(BOB,), creator=ADA)
            api.add_chat(FORUM, "supergroup", title="ML", username="mlpapers", is_forum=True, threads=(5,))
            api.add_chat(CHANNEL, "channel", title="Digest", username="digest")
            async with telegram.Bot(api.token, base_url=api.base_url) as bot:
                await scenario(api, bot)
            return api

    return asyncio.run(main())


def unread(obj: object) -> list[str]:
    """Fields PTB did not recognise (it keeps them in api_kwargs), anywhere in a parsed object."""
    if isinstance(obj, tuple | list):
        return [name for item in obj for name in unread(item)]
    if not isinstance(obj, TelegramObject):
        return []
    found = [f"{type(obj).__name__}.{key}" for key in obj.api_kwargs]
    slots = (slot for cls in type(obj).__mro__ for slot in getattr(cls, "__slots__", ()))
    return found + [name for slot in slots if not slot.startswith("_") for name in unread(getattr(obj, slot))]


def assert_round_trip(update: dict[str, Any], bot: telegram.Bot) -> Update:
    """PTB reads every field of the update, and writes back the same values."""
    parsed = Update.de_json(update, bot)
    assert unread(parsed) == []

    def within(mine: Any, theirs: Any) -> bool:
        if isinstance(mine, dict):
            return all(within(value, theirs.get(key)) for key, value in mine.items())
        if isinstance(mine, list):
            return len(mine) == len(theirs) and all(map(within, mine, theirs))
        return bool(mine == theirs)

    assert within(update, parsed.to_dict()), (update, parsed.to_dict())
    return parsed


def test_a_good_message_is_accepted_and_recorded() -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])
    html = '<b>Attention</b> &lt;is&gt; <a href="https://arxiv.org/abs/1706.03762">all</a> you need'

    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        preview = LinkPreviewOptions(is_disabled=True)
        first = await bot.send_message(
            FORUM, html, "HTML", reply_markup=markup, link_preview_options=preview, message_thread_id=5
        )
        assert first.text == "Attention <is> all you need" and first.text_html == html
        assert first.message_thread_id == 5 and first.reply_markup == markup
        second = await bot.send_message("@mlpapers", "plain & simple")
        assert (first.message_id, second.message_id) == (1, 2)
        assert (await bot.send_message(CHANNEL, "x" * 4096)).message_id == 1  # ids count per chat

    api = play(scenario, per_chat=0)  # two messages to one chat in a second are flood
    sent = api.messages_in(FORUM)
    assert [(s.message_id, s.thread_id, s.parse_mode) for s in sent] == [(1, 5, "HTML"), (2, None, None)]
    assert sent[0].plain == "Attention <is> all you need" and sent[0].text == html
    assert sent[0].link_preview_disabled and not sent[1].link_preview_disabled
    assert sent[0].reply_markup == markup.to_dict() and sent[0].at < sent[1].at


def keyboard(text: str, **action: str) -> dict[str, Any]:
    return {"reply_markup": InlineKeyboardMarkup([[InlineKeyboardButton(text, **action)]])}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("chat", "text", "extra", "error"),
    [
        (ADA, "one<br>two", {}, "can't parse entities: unsupported tag <br>"),
        (ADA, "<b>unclosed", {}, "can't parse entities: unclosed tags ['b']"),
        (ADA, "a & b", {}, "can't parse entities: bare &"),
        (ADA, "<span>x</span>", {}, "can't parse entities: <span> without class"),
        (ADA, "x" * 4097, {}, "message is too long"),
        (ADA, "🙂" * 2049, {}, "message is too long"),  # 4,098 UTF-16 units: the safe reading
        (ADA, "<b> </b>", {}, "message text is empty"),
        (99, "hello", {}, "chat not found"),
        ("@nobody", "hello", {}, "chat not found"),
        ("@ada", "hello", {}, "chat not found"),  # private chats have no public @username
        (FORUM, "hello", {"message_thread_id": 6}, "message thread not found"),
        (ADA, "hello", {"reply_parameters": telegram.ReplyParameters(99)}, "message to be replied not found"),
        (ADA, "x", keyboard("a", callback_data="é" * 33), "button_data_invalid"),  # 66 bytes
        (ADA, "x", keyboard(" ", callback_data="a"), "text must be non-empty"),
        (ADA, "x", keyboard("a"), "text buttons are unallowed"),
        (ADA, "x", keyboard("a", url="javascript:alert(1)"), "unsupported url protocol"),
    ],
)
def test_bad_messages_raise_bad_request(
    chat: int | str, text: str, extra: dict[str, Any], error: str
) -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        parse_mode = "HTML" if "<" in text or "&" in text else None
        with pytest.raises(BadRequest) as raised:
            await bot.send_message(chat, text, parse_mode=parse_mode, **extra)
        assert error in str(raised.value).lower()

    api = play(scenario)
    assert api.sent == [] and [e[:2] for e in api.errors] == [("sendMessage", 400)]
    assert api.errors[0][2].startswith("Bad Request: ")


def test_a_second_message_within_a_second_is_flood() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        await bot.send_message(ADA, "one")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(ADA, "two")
        assert waited(raised.value) >= 1
        await bot.send_message(BOB, "another chat is not limited")
        await asyncio.sleep(0.5)  # a second, at scale 0.5
        await bot.send_message(ADA, "two, later")

    api = play(scenario, scale=0.5)
    assert api.rejections == [("sendMessage", ADA, "per_chat")]
    assert [s.plain for s in api.messages_in(ADA)] == ["one", "two, later"]


def test_a_group_takes_twenty_messages_a_minute() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        for n in range(20):
            await bot.send_message(GROUP, f"paper {n}")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(GROUP, "the 21st")
        assert 50 <= waited(raised.value) <= 60
        await bot.send_message(FORUM, "another group")

    api = play(scenario, per_chat=0)
    assert api.rejections == [("sendMessage", GROUP, "group")] and len(api.sent) == 21


def test_all_chats_together_take_thirty_messages_a_second() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        for n in range(30):
            api.add_user(1000 + n, f"Reader {n}")
            await bot.send_message(1000 + n, "hi")
        with pytest.raises(RetryAfter):
            await bot.send_message(ADA, "the 31st")

    started = time.monotonic()
    api = play(scenario, scale=3)  # a "second" of 3 s, so that a slow machine still sends 31 in one
    assert time.monotonic() - started < 3
    assert api.rejections == [("sendMessage", ADA, "overall")] and len(api.sent) == 30


def test_injected_faults_raise_what_ptb_raises() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        api.fail(ADA, "retry_after", seconds=3, times=2)
        for _ in range(2):
            with pytest.raises(RetryAfter) as flood:
                await bot.send_message(ADA, "hi")
            assert waited(flood.value) == 3
        await bot.send_message(ADA, "third time lucky")
        api.block(ADA)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(ADA, "hi")
        api.kick(FORUM)
        with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
            await bot.send_message(FORUM, "hi")
        api.migrate(GROUP, -1005555)
        with pytest.raises(ChatMigrated) as moved:
            await bot.send_message(GROUP, "hi")
        assert moved.value.new_chat_id == -1005555
        assert (await bot.send_message(moved.value.new_chat_id, "hi")).chat.type == "supergroup"
        api.delete_chat(CHANNEL)
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(CHANNEL, "hi")

    api = play(scenario, per_chat=0)
    assert api.rejections == [("sendMessage", ADA, "injected")] * 2
    assert [(s.chat_id, s.plain) for s in api.sent] == [(ADA, "third time lucky"), (-1005555, "hi")]


async def raw(api: TelegramStandIn, verb: str, method: str, **request: Any) -> tuple[int, Any]:
    """A request of one's own, not PTB's: JSON, a form, or a query string."""
    async with (
        aiohttp.ClientSession() as http,
        http.request(verb, api.base_url + method, **request) as answer,
    ):
        return answer.status, await answer.json()


def test_get_me_tokens_methods_and_request_encodings() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        me = await bot.get_me()
        assert (me.id, me.is_bot, me.username) == (123456, True, "paperboy_test_bot")
        assert api.base_url.startswith("http://127.0.0.1:") and api.token.startswith("123456:")
        with pytest.raises(InvalidToken):
            async with telegram.Bot("654321:AAAA", base_url=api.base_url):
                pass
        send, text = f"{api.token}/sendMessage", {"text": "<i>json</i>", "parse_mode": "HTML"}
        not_found = {"ok": False, "error_code": 404, "description": "Not Found"}
        assert await raw(api, "POST", f"{api.token}/sendPigeon") == (404, not_found)
        assert (await raw(api, "GET", f"{api.token}/GETME"))[1]["result"]["username"] == "paperboy_test_bot"
        json_body = (await raw(api, "POST", send, json={"chat_id": ADA, **text}))[1]
        assert json_body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 4}]
        assert (await raw(api, "POST", send, data={"chat_id": str(FORUM), "text": "form"}))[1]["ok"] is True
        chat = (await raw(api, "GET", send, params={"chat_id": str(GROUP), "text": "query"}))[1]["result"][
            "chat"
        ]
        assert chat == {"id": GROUP, "type": "group", "title": "Readers"}

    api = play(scenario)
    assert [s.plain for s in api.sent] == ["json", "form", "query"]
    assert ("getMe", 401, "Unauthorized") in api.errors


def test_commands_are_checked_and_stored_per_scope_and_language() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        commands = [("today", "Today's papers"), ("tag_cv", "Follow a tag")]
        assert await bot.set_my_commands(commands)
        assert await bot.set_my_commands([("today", "오늘의 논문")], language_code="ko")
        group_scope = telegram.BotCommandScopeChat(GROUP)
        assert await bot.set_my_commands([("digest", "The digest")], scope=group_scope)
        assert [(c.command, c.description) for c in await bot.get_my_commands()] == commands
        assert [c.command for c in await bot.get_my_commands(scope=group_scope)] == ["digest"]
        assert await bot.get_my_commands(language_code="en") == ()
        for bad, error in [
            ([("Today", "x")], "bot_command_invalid"),
            ([("to-day", "x")], "bot_command_invalid"),
            ([("x" * 33, "x")], "bot_command_invalid"),
            ([("today", "")], "bot_command_description_invalid"),
            ([("today", "x" * 257)], "bot_command_description_invalid"),
            ([(f"c{n}", "x") for n in range(101)], "bot_commands_too_much"),
        ]:
            with pytest.raises(BadRequest) as raised:
                await bot.set_my_commands(bad)
            assert error in str(raised.value).lower()

    api = play(scenario)
    assert api.commands[("default", "ko")] == [{"command": "today", "description": "오늘의 논문"}]
    assert set(api.commands) == {("default", ""), ("default", "ko"), (f"chat:{GROUP}", "")}


def test_edits_need_a_change_and_a_message_of_the_bots() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        sent = await bot.send_message(ADA, "<b>page 1</b>", parse_mode="HTML")
        edited = await bot.edit_message_text("<b>page 2</b>", ADA, sent.message_id, parse_mode="HTML")
        assert isinstance(edited, telegram.Message) and edited.text == "page 2" and edited.edit_date
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("<strong>page 2</strong>", ADA, sent.message_id, parse_mode="HTML")
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.edit_message_text("<p>page 3</p>", ADA, sent.message_id, parse_mode="HTML")
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("page 3", ADA, 99)
        api.user_says(ADA, ADA, "hello")
        with pytest.raises(BadRequest, match="Message can't be edited"):
            await bot.edit_message_text("hijacked", ADA, 2)

    api = play(scenario, per_chat=0)  # edits one after another: their flood limits are tested below
    assert [(e.chat_id, e.message_id, e.plain) for e in api.edits] == [(ADA, 1, "page 2")]


def test_edits_count_against_the_flood_limits_and_must_fit_a_message() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        sent = await bot.send_message(ADA, "page 1")
        with pytest.raises(RetryAfter):  # at once: the chat's one message a second counts edits too
            await bot.edit_message_text("page 2", ADA, sent.message_id)
        await asyncio.sleep(0.2)  # the stand-in's second, at scale 0.2
        await bot.edit_message_text("page 2", ADA, sent.message_id)
        await asyncio.sleep(0.2)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.edit_message_text("x" * 4097, ADA, sent.message_id)
        in_topic = await bot.send_message(FORUM, "<b>topic</b>", parse_mode="HTML", message_thread_id=5)
        await asyncio.sleep(0.2)
        preview = LinkPreviewOptions(is_disabled=True)
        edited = await bot.edit_message_text(
            "<b>topic, corrected</b>",
            FORUM,
            in_topic.message_id,
            parse_mode="HTML",
            link_preview_options=preview,
        )
        assert isinstance(edited, telegram.Message) and edited.message_thread_id == 5
        api.delete_chat(FORUM)
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.edit_message_text("gone", FORUM, in_topic.message_id)

    api = play(scenario, scale=0.2)
    assert api.rejections == [("editMessageText", ADA, "per_chat")]
    assert [(e.message_id, e.plain, e.link_preview_disabled) for e in api.edits] == [
        (1, "page 2", False),
        (1, "topic, corrected", True),
    ]
    assert [m["text"] for m in api.shown_in(ADA)] == ["page 2"]


def test_deletes_find_the_message_and_only_within_48_hours() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        first = await bot.send_message(GROUP, "one")
        second = await bot.send_message(GROUP, "two")
        api.age(GROUP, first.message_id, hours=49)
        with pytest.raises(BadRequest, match="Message can't be deleted"):
            await bot.delete_message(GROUP, first.message_id)
        api.age(GROUP, second.message_id, hours=47)
        assert await bot.delete_message(GROUP, second.message_id)
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await bot.delete_message(GROUP, second.message_id)

    api = play(scenario, per_chat=0)
    assert api.deleted == [(GROUP, 2)] and [m["text"] for m in api.shown_in(GROUP)] == ["one"]


def test_buttons_callbacks_and_inline_queries() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        buttons = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="page:2")]])
        sent = await bot.send_message(GROUP, "page 1", reply_markup=buttons)
        with pytest.raises(ValueError, match="no button"):
            api.press(BOB, GROUP, sent.message_id, "page:3")
        pressed = assert_round_trip(api.press(BOB, GROUP, sent.message_id, "page:2"), bot)
        assert pressed.callback_query and pressed.callback_query.message == sent
        assert await bot.answer_callback_query(pressed.callback_query.id, "Turning…")
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query(pressed.callback_query.id)

        query = assert_round_trip(api.inline(ADA, "diffusion"), bot).inline_query
        assert query and query.query == "diffusion"

        def article(ident: str, text: str = "<b>paper</b>") -> telegram.InlineQueryResultArticle:
            content = telegram.InputTextMessageContent(text, parse_mode="HTML")
            return telegram.InlineQueryResultArticle(ident, "A paper", content, reply_markup=buttons)

        for results, error in [
            ([article(str(n)) for n in range(51)], "results_too_much"),
            ([article("1"), article("1")], "result_id_duplicate"),
            ([article("x" * 65)], "result_id_invalid"),
            ([article("1", "a<br>b")], "can't parse entities"),
            ([article("1", "x" * 4097)], "message is too long"),
        ]:
            with pytest.raises(BadRequest) as raised:
                await bot.answer_inline_query(query.id, results)
            assert error in str(raised.value).lower()
        assert await bot.answer_inline_query(query.id, [article("2401.00001")], cache_time=0)
        chosen = assert_round_trip(api.choose(ADA, "2401.00001"), bot).chosen_inline_result
        assert chosen and chosen.inline_message_id
        edited = await bot.edit_message_text("<i>read</i>", None, None, chosen.inline_message_id, "HTML")
        assert edited is True

    api = play(scenario)
    assert [(a.text, a.show_alert) for a in api.callback_answers] == [("Turning…", False)]
    assert [len(a.results) for a in api.inline_answers] == [1]
    assert api.edits[0].inline_message_id and api.edits[0].plain == "read"


def test_long_polling_delivers_updates_and_waits_out_the_timeout() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()
        assert 0.8 <= time.monotonic() - started <= 3
        said = api.user_says(BOB, FORUM, "/tag@paperboy_test_bot cv", thread_id=5)
        (update,) = await bot.get_updates(timeout=5)
        assert update.to_dict() == assert_round_trip(said, bot).to_dict()
        message = update.message
        assert message and message.from_user and message.from_user.language_code == "en"
        assert message.parse_entities() == {message.entities[0]: "/tag@paperboy_test_bot"}
        assert message.chat.is_forum and message.message_thread_id == 5 and message.is_topic_message
        assert (await bot.get_updates(timeout=0))[0].update_id == update.update_id  # not yet confirmed
        later = asyncio.get_running_loop().call_later(0.3, api.user_says, ADA, ADA, "/start")
        started = time.monotonic()
        (second,) = await bot.get_updates(offset=update.update_id + 1, timeout=5)
        assert time.monotonic() - started < 2 and second.message and second.message.text == "/start"
        later.cancel()
        posted = assert_round_trip(api.channel_post(CHANNEL, "New issue"), bot)
        assert posted.channel_post and posted.channel_post.sender_chat
        assert [u.update_id for u in await bot.get_updates(offset=-1)] == [posted.update_id]
        assert await bot.get_updates(offset=posted.update_id + 1, allowed_updates=["message"]) == ()
        api.inline(ADA, "ignored: not allowed")
        assert await bot.get_updates() == ()

    play(scenario)


def test_a_webhook_gets_the_updates_and_getupdates_is_refused() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        received: list[tuple[str | None, dict[str, Any]]] = []

        async def hook(request: web.Request) -> web.Response:
            received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
            return web.Response(status=500 if len(received) == 1 else 200)  # the first try fails

        app = web.Application()
        app.router.add_post("/hook", hook)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        try:
            with pytest.raises(BadRequest, match="an https url must be provided"):
                await bot.set_webhook("http://example.org/hook")
            assert await bot.set_webhook(url, secret_token="s3cret-token")
            assert (await bot.get_webhook_info()).url == url
            with pytest.raises(Conflict, match="webhook is active"):
                await bot.get_updates()
            update = api.user_says(ADA, ADA, "/today")
            await api.wait_for(lambda: api.updates == [])
            assert received == [("s3cret-token", update)] * 2
            assert (await bot.get_webhook_info()).last_error_message == "500 Internal Server Error"
            assert await bot.delete_webhook()
            assert await bot.get_updates() == ()
        finally:
            await runner.cleanup()

    play(scenario, scale=0.1)


def test_chats_and_members_come_from_the_registry() -> None:
    async def scenario(api: TelegramStandIn, bot: telegram.Bot) -> None:
        statuses = [(await bot.get_chat_member(GROUP, user)).status for user in (ADA, BOB, 123456)]
        assert statuses == ["creator", "administrator", "administrator"]
        assert (await bot.get_chat_member(FORUM, BOB)).status == "left"
        api.user_says(BOB, FORUM, "hi")
        assert isinstance(await bot.get_chat_member(FORUM, BOB), telegram.ChatMemberMember)
        forum = await bot.get_chat("@mlpapers")
        assert (forum.id, forum.type, forum.title, forum.is_forum) == (FORUM, "supergroup", "ML", True)
        assert (await bot.get_chat(ADA)).first_name == "Ada"
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.get_chat(-1)

    play(scenario)


def test_a_ptb_application_polls_answers_a_command_and_stops() -> None:
    async def main() -> TelegramStandIn:
        async with TelegramStandIn() as api:
            api.add_user(ADA, "Ada", "ada")
            api.add_chat(GROUP, "group", title="Readers")

            async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
                assert update.effective_message and update.effective_user
                await update.effective_message.reply_text(f"Hello, {update.effective_user.first_name}")

            app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
            app.add_handler(CommandHandler("start", start))
            async with app:
                assert app.updater is not None
                await app.updater.start_polling(timeout=1)
                await app.start()
                api.user_says(ADA, ADA, "/start")
                assert (await api.next_sent(ADA)).plain == "Hello, Ada"
                api.user_says(ADA, GROUP, "/start@paperboy_test_bot")
                api.user_says(ADA, GROUP, "/start@other_bot")
                reply = await api.next_sent(GROUP)
                assert reply.plain == "Hello, Ada"
                await app.updater.stop()
                await app.stop()
            assert api.messages_in(GROUP) == [reply]  # /start@other_bot is for another bot
            return api

    started = time.monotonic()
    api = asyncio.run(main())
    assert time.monotonic() - started < 5
    methods = [method for method, _ in api.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"] and methods.count("sendMessage") == 2
    assert api.errors == [] and api.updates == []  # the last poll confirmed every update
