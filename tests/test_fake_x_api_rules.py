"""The fake X API v2's filtered-stream rules: added, listed and deleted through tweepy, refused like X,
and matched by the rule language as X matches them.
"""

from __future__ import annotations

import pytest
from tweepy import StreamRule

from tests.fake_x_api_support import ALICE, BOB, CAROL, RULES_PATH, StreamRecorder
from tests.fakes.x_api import FakeX, RuleError, compile_rule

# isort: split
# The shared fixtures: pytest finds them in the modules that import them.
from tests.fake_x_api_support import _loopback_only, fixture_fake, fixture_stream  # noqa: F401

# --- stream rules --------------------------------------------------------------------------------


async def test_rules_add_list_delete(fake: FakeX, stream: StreamRecorder) -> None:
    added = await stream.add_rules(
        [StreamRule("from:alice OR from:bob_official", tag="officials"), StreamRule('"has fallen"')]
    )
    assert added.meta["summary"] == {"created": 2, "not_created": 0, "valid": 2, "invalid": 0}
    assert [(rule.value, rule.tag) for rule in added.data] == [
        ("from:alice OR from:bob_official", "officials"),
        ('"has fallen"', None),
    ]
    assert fake.calls(RULES_PATH, "POST")[0].json == {
        "add": [{"value": "from:alice OR from:bob_official", "tag": "officials"}, {"value": '"has fallen"'}]
    }

    listed = await stream.get_rules()
    assert listed.data == added.data
    assert listed.meta["result_count"] == 2
    assert listed.meta["sent"].endswith("Z")
    assert fake.rules == [
        {"id": added.data[0].id, "value": "from:alice OR from:bob_official", "tag": "officials"},
        {"id": added.data[1].id, "value": '"has fallen"'},
    ]

    deleted = await stream.delete_rules([added.data[0].id, "1234"])
    assert deleted.meta["summary"] == {"deleted": 1, "not_deleted": 1}
    assert deleted.errors[0]["errors"] == [{"parameters": {}, "message": "Rule does not exist"}]
    await stream.delete_rules(added.data[1])
    empty = await stream.get_rules()
    assert (empty.data, empty.meta["result_count"]) == (None, 0)


async def test_rules_refused_like_x(fake: FakeX, stream: StreamRecorder) -> None:
    kept = (await stream.add_rules(StreamRule("from:alice"))).data[0]

    duplicate = await stream.add_rules(StreamRule("from:alice", tag="again"))
    assert duplicate.data is None
    assert duplicate.errors == [
        {
            "value": "from:alice",
            "id": kept.id,
            "title": "DuplicateRule",
            "type": "https://api.twitter.com/2/problems/duplicate-rules",
        }
    ]
    assert duplicate.meta["summary"] == {"created": 0, "not_created": 1, "valid": 0, "invalid": 1}

    # All or nothing: the valid rule of a request with an invalid one is not created either.
    mixed = await stream.add_rules([StreamRule("(from:alice OR from:bob_official"), StreamRule("kabul")])
    assert mixed.meta["summary"] == {"created": 0, "not_created": 2, "valid": 1, "invalid": 1}
    assert mixed.errors[0]["title"] == "UnprocessableEntity"
    assert mixed.errors[0]["type"] == "https://api.twitter.com/2/problems/invalid-rules"
    assert "Unbalanced parentheses" in mixed.errors[0]["details"][0]

    too_long = await stream.add_rules(StreamRule("kabul OR " + "x" * 510))
    assert "the limit is 512 characters" in too_long.errors[0]["details"][0]

    fake.max_rules = 2
    capped = await stream.add_rules([StreamRule("herat"), StreamRule("kandahar")])
    assert capped.errors[0]["title"] == "RulesCapExceeded"
    assert capped.errors[0]["type"] == "https://api.twitter.com/2/problems/rule-cap"

    # tweepy passes dry_run through as is, and aiohttp refuses a bool in a query: send the string.
    dry = await stream.add_rules(StreamRule("herat"), dry_run="true")
    assert dry.meta["summary"]["created"] == 1
    assert [rule["value"] for rule in fake.rules] == ["from:alice"]


@pytest.mark.parametrize(
    ("rule", "author", "text", "lang", "expected"),
    [
        ('(from:alice OR from:bob_official) (fallen OR "has fallen")', ALICE, "Kabul has fallen", "en", True),
        ('(from:alice OR from:bob_official) (fallen OR "has fallen")', BOB, "FALLEN: Herat", "en", True),
        (
            '(from:alice OR from:bob_official) (fallen OR "has fallen")',
            CAROL,
            "Kabul has fallen",
            "en",
            False,
        ),
        ('(from:alice OR from:bob_official) (fallen OR "has fallen")', ALICE, "Kabul is calm", "en", False),
        ('"has fallen"', CAROL, "fallen it has", "en", False),
        ("kabul OR herat fallen", CAROL, "Kabul is calm", "en", True),
        ("kabul OR herat fallen", CAROL, "Herat is calm", "en", False),
        ("kabul OR herat fallen", CAROL, "Herat has fallen", "en", True),
        ("from:alice -calm", ALICE, "Kabul is calm", "en", False),
        ("from:1001 kabul", ALICE, "kabul!", "en", True),
        ("fallen lang:ru", CAROL, "fallen", "en", False),
        ("кабул lang:ru", CAROL, "Кабул пал", "ru", True),
        ('"مزار شریف"', CAROL, "سقوط مزار شریف", "fa", True),
        ("#Kabul", CAROL, "news from #kabul", "en", True),
        ("#Kabul", CAROL, "news from kabul", "en", False),
        ("@bob_official fallen", CAROL, "@Bob_Official says it has fallen", "en", True),
    ],
)
def test_rule_language(rule: str, author: str, text: str, lang: str, expected: bool) -> None:
    fake = FakeX()
    fake.add_user(ALICE, "alice")
    fake.add_user(BOB, "bob_official")
    fake.add_user(CAROL, "carol")
    assert fake.rule_matches(rule, fake.post(author, text, lang=lang)) is expected


def test_retweet_and_reply_operators() -> None:
    fake = FakeX()
    fake.add_user(ALICE, "alice")
    fake.add_user(BOB, "bob_official")
    original = fake.post(ALICE, "Kabul has fallen")
    retweet = fake.post(
        BOB, "RT @alice: Kabul has fallen", referenced_tweets=[{"type": "retweeted", "id": original["id"]}]
    )
    reply = fake.post(BOB, "Confirmed", referenced_tweets=[{"type": "replied_to", "id": original["id"]}])
    assert fake.rule_matches("from:bob_official -is:retweet", retweet) is False
    assert fake.rule_matches("from:bob_official -is:retweet", reply) is True
    assert fake.rule_matches("retweets_of:alice", retweet) is True
    assert fake.rule_matches("to:alice", reply) is True
    assert reply["in_reply_to_user_id"] == ALICE
    assert reply["conversation_id"] == original["id"]


@pytest.mark.parametrize(
    "rule",
    [
        "",
        "(from:alice",
        "from:alice)",
        "kabul or herat",
        "-kabul",
        "is:retweet",
        "foo:bar",
        "OR kabul",
        "kabul OR",
        "()",
        '"unterminated',
        "from:not-a-user",
        "has:feelings",
    ],
)
def test_invalid_rules(rule: str) -> None:
    with pytest.raises(RuleError):
        compile_rule(rule)
