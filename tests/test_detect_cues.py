"""Cancel cues: forecasts, denials, history and other meanings of the trigger words are not reports."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.posts import Post
from bot.rules import Detector, Match


@pytest.mark.parametrize(
    "text",
    [
        "Kunduz could fall within days, officials warn.",
        "Mazar-i-Sharif is on the verge of falling to the Taliban.",
        "If Mazar-i-Sharif falls, the whole north is lost.",
        "Losing Kherson would be a disaster for the occupiers.",
        "Бахмут может пасть в ближайшие дни.",
        "Якщо Авдіївка впаде, фронт посунеться на захід.",
        "Goma pourrait tomber aux mains du M23 dans les prochaines heures.",
        "قد تسقط مدينة الفاشر خلال أيام.",
    ],
)
def test_hedges_and_forecasts_raise_nothing(detect: Callable[..., list[Match]], text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "The governor denies that Kunduz has fallen.",
        "Mazar-i-Sharif has not fallen, the army says.",
        "Ukrainian forces repelled an assault and Pokrovsk was not captured.",
        "Russian troops were repulsed near Vuhledar.",
        "Генштаб спростовує заяви про захоплення Куп'янська.",
        "Le gouvernement dément la chute de Goma.",
        "نفت الحكومة سقوط مدينة الفاشر.",
        "ولایت بلخ سقوط مزار شریف را تکذیب کرد.",
    ],
)
def test_denials_raise_nothing(detect: Callable[..., list[Match]], text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Three years ago today, Kabul fell to the Taliban.",
        "On the anniversary of the fall of Kabul, families still wait for news.",
        "The Taliban briefly captured Kunduz in 2015.",
        "Год назад ВСУ освободили Херсон.",
        "Un an après la chute de Kaboul, les Afghanes racontent.",
        "سه سال از سقوط کابل گذشت.",
    ],
)
def test_history_and_anniversaries_raise_nothing(detect: Callable[..., list[Match]], text: str) -> None:
    assert detect(text) == []


def test_a_year_earlier_than_the_post_cancels_only_its_own_clause(detect: Callable[..., list[Match]]) -> None:
    post_2024 = "2024-12-01T08:00:00Z"
    assert detect("Rebels captured Aleppo in 2016, the army says.", created_at=post_2024) == []
    matches = detect("Сирійські повстанці захопили Алеппо — вперше з 2016 року.", created_at=post_2024)
    assert [m.geonameid for m in matches] == [170063]


@pytest.mark.parametrize(
    "text",
    [
        "Kabul honours its fallen soldiers at a ceremony today.",
        "Prices fell in Kabul markets as the afghani recovered.",
        "Real Madrid captured the title in Madrid last night.",
        "Police in Kandahar seized drugs worth millions.",
        "Моменты, когда Киев захватили эмоции: цены на билеты упали.",
        "L'OM s'empare de la 4e place après sa victoire à Lyon.",
    ],
)
def test_other_meanings_of_trigger_words_raise_nothing(detect: Callable[..., list[Match]], text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Russian forces captured two villages near Bakhmut.",
        "Taliban fighters captured 20 soldiers outside Kunduz.",
        "Поблизу Куп'янська взято в полон 12 окупантів.",
        "طالبان چند روستا در حومه شهر غزنی را تصرف کرده‌اند.",
    ],
)
def test_captures_near_a_town_are_not_the_town_falling(detect: Callable[..., list[Match]], text: str) -> None:
    assert detect(text) == []


def test_a_cue_in_another_sentence_does_not_cancel(detect: Callable[..., list[Match]]) -> None:
    matches = detect("Officials had said Kunduz could hold. Now Kunduz has fallen to the Taliban.")
    assert [m.geonameid for m in matches] == [1135689]


@pytest.mark.parametrize(
    ("text", "fallen"),
    [
        (
            "Les forces karennies sont entrées dans Loikaw ; des milliers d'habitants ont fui vers Demoso.",
            False,
        ),
        ("Rebels entered Kunduz overnight and thousands of residents fled toward the border.", False),
        ("Rebels entered Kunduz overnight; government troops fled to the airport.", True),
    ],
)
def test_civilians_fleeing_do_not_make_an_entry_a_fall_but_its_defenders_leaving_do(
    detector: Detector, text: str, fallen: bool
) -> None:
    phrases = Detector(detector.compiled, without_reader=True)  # the reader weighs such posts by itself
    post = Post.model_validate({"id": "t1", "text": text, "created_at": "2024-05-01T10:00:00Z"})
    assert any(m.rule == "city-fallen" for m in phrases.detect(post)) is fallen


def test_a_fall_that_a_book_or_a_film_is_about_is_not_news(detect: Callable[..., list[Match]]) -> None:
    text = "Ce soir à l'affiche : « La Chute de Mossoul », documentaire sur l'été 2014 vu par ses habitants."
    assert detect(text) == []


@pytest.mark.parametrize(
    ("text", "geonameids"),
    [
        ("Урядові сили за підтримки коаліції повністю відбили Аден у хуситів.", [415189]),
        ("Сили оборони відбили Куп'янськ після тижня боїв.", [703656]),
        ("ВСУ отбили Купянск, сообщает Генштаб.", [703656]),
        ("ЗСУ відбили штурм Куп'янська, ворог відступив.", []),
        ("ВСУ отбили атаку на Купянск.", []),
    ],
)
def test_a_town_taken_back_is_reported_but_an_attack_repelled_is_not(
    detect: Callable[..., list[Match]], text: str, geonameids: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == geonameids


@pytest.mark.parametrize(
    "text",
    [
        "Les forces irakiennes ont reconquis toute la rive est de Mossoul ; la vieille ville tient encore.",
        "Падение Кандагара — вопрос дней, говорят источники в силовых структурах.",
        "الجيش يستعيد القصر الجمهوري وسط الخرطوم وتتواصل الاشتباكات في محيط الوزارات",
    ],
)
def test_a_bank_a_palace_or_a_fall_days_away_is_not_a_town_taken(
    detect: Callable[..., list[Match]], text: str
) -> None:
    assert [m for m in detect(text) if m.rule == "city-fallen"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Police in Mazar-i-Sharif seized 300 kg of opium hidden in a fuel truck.", []),
        ("Yémen : les rebelles houthis tiennent désormais Amran, au nord de la capitale.", [78428]),
        ("الرستن خرجت من يد النظام ومقاتلو المعارضة يتجولون في شوارعها منذ الصباح", [172946]),
        ("داعش بیش از یک‌سوم کوبانی را در اختیار گرفت و مدافعان کرد مقاومت می‌کنند", []),
    ],
)
def test_drugs_seized_and_a_third_held_are_no_report_but_a_town_now_held_is(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a decimal point ends no sentence: the drug seizure's cue stays beside the verb
        ("Customs officers in Izmail port seized 1.4 tonnes of cocaine from a cargo ship.", []),
        # a headquarters, a terminal or a quarter général is a part of the town
        (
            "Rebels say the army's 22nd Division headquarters in Nyala is in their hands; the army still "
            "holds the rest of the city.",
            [],
        ),
        ("Le Hezbollah a pris le quartier général de l'armée à Qousseir.", []),
        # Pashto: "قبضه وکړه" (seized) after the place
        ("طالبانو د هلمند پر ګرشک قبضه وکړه", [1141540]),
    ],
)
def test_a_decimal_a_headquarters_taken_and_a_pashto_seizure_read_as_users_mean_them(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a group's name is no intention: "National Movement for the Liberation of Azawad"
        ("مقاتلو الحركة الوطنية لتحرير أزواد يسيطرون على مدينة كيدال بعد انسحاب الجيش.", [2455290]),
        # Arabic verbs in the dual, two forces taking a town together
        ("الجيش وقوات الحلفاء ينتزعان مدينة مركة من حركة الشباب.", [54225]),
        ("Повстанцы заявили, что город Лашо теперь полностью в их руках.", [1314759]),
        ("Kelbajar has been freed after 27 years, the president said.", [586268]),
        ("ЗСУ відвоювали Куп'янськ у російських військ.", [703656]),
    ],
)
def test_group_names_dual_verbs_and_more_verbs_of_taking_are_read(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("الجيش يسترد مدينة الدندر بعد معارك مع الدعم السريع", [13132448]),
        ("جيش تانغ للتحرير الوطني يستولي على بلدة كوتكاي بعد معارك مع الجيش", [1317682]),
        ("В обращении президент сказал, что город Губадлы возвращен под контроль Азербайджана.", [147305]),
        # "that year": the capture is the background of other news
        (
            "The town was overrun by Boko Haram that year and largely destroyed; its school reopened "
            "on Monday in Gwoza.",
            [],
        ),
    ],
)
def test_more_verbs_of_taking_back_and_a_capture_dated_that_year(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "close to losing" is a town not yet lost
        ("Analysts say the army is close to losing Kadugli after months of siege.", []),
        # "the liberation of X and the expulsion of the RSF": a report, not a plan to expel
        ("ارتش سودان از آزادسازی شهر سنجه و بیرون راندن نیروهای پشتیبانی سریع از آن خبر داد.", [366847]),
    ],
)
def test_a_town_close_to_being_lost_is_no_report_but_its_liberation_announced_is(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected
