"""frontwatch: watches journalists' and officials' posts and alerts Telegram chats when a city falls."""

__version__ = "0.1.0"
