"""FakeTelegram itself: its settings, its lifecycle, what a test reads and injects, and the HTTP
entry point every request goes through (token, method, faults, then the method's handler).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from aiohttp import web
from telegram import Bot

from tests.fakes.telegram_api.chats import _Chat
from tests.fakes.telegram_api.errors import _ApiError, _error
from tests.fakes.telegram_api.limits import _Window
from tests.fakes.telegram_api.methods import _FakeTelegramMethods
from tests.fakes.telegram_api.params import Handler, _Params, _read_params
from tests.fakes.telegram_api.records import ApiCall, SentMessage, _Fault
from tests.fakes.telegram_api.spec import DEFAULT_DESCRIPTIONS, METHOD_NOT_FOUND, TOKEN, JsonDict

# --- the server -------------------------------------------------------------------------------


class FakeTelegram(_FakeTelegramMethods):
    """The Bot API on 127.0.0.1 with chats, updates, recorded calls, faults and flood limits.

    Limits are messages per window (None turns one off). sendMessage counts towards all three;
    editMessageText only towards the per-chat ones. Requests over a limit get a 429 with
    `retry_after` and are listed in `violations`.
    """

    name = "FakeTelegram"

    def __init__(
        self,
        *,
        token: str = TOKEN,
        overall_per_second: int | None = 30,
        private_chat_per_second: int | None = 1,
        group_chat_per_minute: int | None = 20,
        jitter_tolerance: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.sent: list[SentMessage] = []
        self.requests: list[ApiCall] = []
        self.violations: list[str] = []
        self.responses: Counter[int] = Counter()
        self._clock = clock
        self._limits = {
            "overall": (overall_per_second, 1.0),
            "private": (private_chat_per_second, 1.0),
            "group": (group_chat_per_minute, 60.0),
        }
        self._tolerance = jitter_tolerance
        self._overall_window = self._window("overall")
        self._chat_windows: dict[int, _Window | None] = {}
        self._chats: dict[int, _Chat] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._stalls: Counter[str] = Counter()
        self._updates: list[JsonDict] = []
        self._last_update_id = 0
        self._last_callback_id = 0
        self._open_callbacks: set[str] = set()
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._arrival = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._return_true,
            "close": self._return_true,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
        }
        # Telegram matches method names case-insensitively.
        self._method_names = {name.lower(): name for name in self._methods}

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await super().start()
        # A fresh event: an asyncio.Event belongs to the loop that first waited on it.
        self._arrival = asyncio.Event()
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        await super().stop()

    @property
    def base_url(self) -> str:
        """For python-telegram-bot's base_url, which appends the token and then "/method"."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def bot(self) -> Bot:
        """A python-telegram-bot Bot pointed at this server (use it as `async with fake.bot() as bot`)."""
        return Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url)

    # --- what a test reads --------------------------------------------------------------------

    def calls(self, method: str) -> list[ApiCall]:
        """Every request to the method, whatever its outcome (see ApiCall.status)."""
        name = self._canonical(method)
        return [call for call in self.requests if call.method == name]

    @property
    def count_429(self) -> int:
        return self.responses[429]

    @property
    def count_403(self) -> int:
        return self.responses[403]

    @property
    def count_400(self) -> int:
        return self.responses[400]

    @property
    def count_5xx(self) -> int:
        return sum(n for status, n in self.responses.items() if status >= 500)

    # --- faults -------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """The next `count` calls of the method fail with this status before any other check."""
        if status == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        text = description or DEFAULT_DESCRIPTIONS.get(status, "Error")
        queue = self._faults.setdefault(self._canonical(method), deque())
        queue.extend([_Fault(status, text, retry_after)] * count)

    def stall_next(self, method: str, count: int = 1) -> None:
        """The next `count` calls of the method are answered with headers and then a blank every
        half second, never a body: each read gets bytes, so the client's read timeout never fires.
        The call is not carried out (a stalled proxy or load balancer in front of the API)."""
        self._stalls[self._canonical(method)] += count

    def _canonical(self, method: str) -> str:
        try:
            return self._method_names[method.lower()]
        except KeyError:
            raise ValueError(f"the fake does not serve {method!r}") from None

    # --- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        match = re.fullmatch(r"/bot[^/]*/([^/]*)", request.path)
        name = self._method_names.get(match.group(1).lower(), "") if match else ""
        if self._stalls[name] > 0:
            self._stalls[name] -= 1
            return await self._trickle(request, name)
        try:
            response = await self._route(request)
        except _ApiError as err:
            response = _error(err)
        self.responses[response.status] += 1
        return response

    async def _trickle(self, request: web.Request, name: str) -> web.StreamResponse:
        self.requests.append(ApiCall(name, {}, self._clock()))  # status 0: never answered
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        while not self._closing:
            await response.write(b" ")
            await asyncio.sleep(0.5)
        return response

    async def _route(self, request: web.Request) -> web.Response:
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", request.path)
        if match is None:
            raise _ApiError(404, "Not Found")
        if match.group(1) != self.token:
            raise _ApiError(401, "Unauthorized")
        name = self._method_names.get(match.group(2).lower())
        if name is None:
            raise _ApiError(404, METHOD_NOT_FOUND)
        params = await _read_params(request)
        call = ApiCall(name, params.raw, self._clock())
        self.requests.append(call)
        try:
            result = await self._call(name, params)
        except _ApiError as err:
            call.status = err.status
            raise
        call.status = 200
        return web.json_response({"ok": True, "result": result})

    async def _call(self, name: str, params: _Params) -> Any:
        faults = self._faults.get(name)
        if faults:
            fault = faults.popleft()
            extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
            raise _ApiError(fault.status, fault.description, extra)
        return await self._methods[name](params)
