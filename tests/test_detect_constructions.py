"""Construction families of real reports (docs/phrasing/*.md): what a desk sees for each."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.rules import Match

Detect = Callable[..., list[Match]]


def fallen(matches: list[Match]) -> list[int | None]:
    return [m.geonameid for m in matches if m.rule == "city-fallen"]


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Rebels seize key town of Kunduz", 1135689),
        ("Insurgents seizes Herat as army melts away", 1140026),
        ("Kherson prise par les forces ukrainiennes", 706448),
        ("Kaboul est tombée ce dimanche", 1138958),
        ("Армия России заняла Попасную", 696566),
        ("الجيش يسيطر على مدينة حمص", 169577),
    ],
)
def test_a_headline_with_a_bare_verb_is_a_report(detect: Detect, text: str, geonameid: int) -> None:
    assert fallen(detect(text)) == [geonameid]


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Ukrainian troops were forced to retreat from Avdiivka overnight.", 713122),
        ("The army pulled out of Kherson, the governor says.", 706448),
        ("ВСУ покидают Угледар, сообщает группировка.", 690823),
        ("Українські захисники відійшли з Сєвєродонецька.", 691999),
        ("انسحب الجيش من مدينة تدمر.", 163808),
        ("نیروهای دولتی از شهر هرات عقب‌نشینی کردند.", 1140026),
    ],
)
def test_the_defenders_withdrawal_is_a_report_with_no_actor_guessed(
    detect: Detect, text: str, geonameid: int
) -> None:
    matches = [m for m in detect(text) if m.rule == "city-fallen"]
    assert [m.geonameid for m in matches] == [geonameid]
    assert matches[0].actor is None


def test_seize_seizes_seized_and_seizing_are_one_verb(detect: Detect) -> None:
    for verb in ("seize", "seizes", "seized"):
        assert fallen(detect(f"Rebels {verb} Kunduz.")) == [1135689], verb


@pytest.mark.parametrize(
    "text",
    [
        "Kunduz, the fourth largest city and the economic hub of the whole north of the country, has fallen.",
        "Kunduz (a city of 300,000 people on the Tajik border) has fallen.",
        "Kunduz — long a government stronghold in the north — has fallen.",
    ],
)
def test_a_long_aside_between_the_place_and_the_verb_still_finds_the_place(detect: Detect, text: str) -> None:
    assert fallen(detect(text)) == [1135689]


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("The Taliban captured the capital of Helmand province.", 1134720),
        ("IS overran the provincial capital of Anbar.", 98717),
        ("طالبان مرکز ولایت جوزجان را تصرف کردند.", 1125444),
    ],
)
def test_the_capital_of_a_province_is_its_capital_city(detect: Detect, text: str, geonameid: int) -> None:
    assert fallen(detect(text)) == [geonameid]


@pytest.mark.parametrize(
    ("text", "actor"),
    [
        ("Kunduz has fallen to the Taliban.", "Taliban"),
        ("RSF seized Wad Madani on Monday.", "RSF"),
        ("Окупанти захопили Соледар.", "Russian forces"),
        ("سقطت مدينة حماة بيد هيئة تحرير الشام", "HTS"),
    ],
)
def test_a_match_names_who_took_the_place(detect: Detect, text: str, actor: str) -> None:
    [match] = [m for m in detect(text) if m.rule == "city-fallen"]
    assert match.actor == actor and match.kind == "fallen"


def test_entering_a_city_is_contested_not_fallen(detect: Detect) -> None:
    [match] = detect("Russian troops have entered Vovchansk.")
    assert (match.rule, match.kind, match.geonameid) == ("city-contested", "contested", 689304)


def test_a_place_reported_fallen_is_not_also_reported_contested(detect: Detect) -> None:
    matches = detect("Taliban fighters entered Kunduz and captured Kunduz city.")
    assert [(m.rule, m.geonameid) for m in matches] == [("city-fallen", 1135689)]


@pytest.mark.parametrize(
    "text",
    [
        "Russian troops now control about half of Sievierodonetsk.",
        "Rebels captured parts of Aleppo overnight.",
        "Rebels seized the airport of Goma.",
        "The Taliban captured the governor of Kunduz.",
        "Russia aims to capture Pokrovsk by February.",
        "Ukraine's General Staff: Kupiansk is under the control of our defence forces.",
        "Reports that Lashio fell are disinformation.",
        "In 2015 the Taliban briefly captured Kunduz.",
        "A new book charts how Mosul fell to IS.",
        "Months after the capture of Goma, rebels advanced on Uvira.",
    ],
)
def test_partial_control_persons_intentions_denials_and_history_are_not_reports(
    detect: Detect, text: str
) -> None:
    assert fallen(detect(text, created_at="2025-06-01T00:00:00Z")) == []


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Russia says it has taken Artemovsk.", 713174),
        ("Russian forces captured Ugledar.", 690823),
        ("ВС РФ взяли под контроль Дзержинск.", 709354),
        ("Rebels captured Laukkaing.", 13494766),
        ("طالبانو اسعدآباد ښار ونیو.", 1148311),
    ],
)
def test_the_other_sides_and_old_names_find_the_place(detect: Detect, text: str, geonameid: int) -> None:
    assert fallen(detect(text)) == [geonameid]


def test_an_ambiguous_name_prefers_the_country_the_post_names(detect: Detect) -> None:
    assert fallen(detect("Russian forces captured Pokrovsk in Ukraine.")) == [704422]


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Ghazni city lost to the Taliban", 1141269),
        ("Kandahar is now in Taliban hands, officials say", 1138336),
        ("Mosul is out of state control tonight", 99072),
        ("Ukraine's flag raised over Kherson city hall", 706448),
        ("Над Изюмом поднят украинский флаг", 707292),
        ("Курахово перешло под полный контроль армии", 695357),
        ("Херсон у руках ЗСУ", 706448),
        ("شهر هرات تحت کنترول طالبان درآمد", 1140026),
        ("خوست ښار له لاسه ووت", 1136469),
        ("جلال‌آباد بدون جنگ تسلیم شد", 1139715),
        ("Bamako reconnaît la perte de Gao", 2457163),
        ("الموصل حرة بعد ثلاث سنوات", 99072),
        ("قوات الدعم السريع تستولي على مدينة الفاشر", 379555),
    ],
)
def test_lost_in_hands_flag_over_and_out_of_control_are_reports(
    detect: Detect, text: str, geonameid: int
) -> None:
    assert fallen(detect(text)) == [geonameid]


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("The army says its troops have left Bakhmut", 713174),
        ("Российские войска уходят из Херсона", 706448),
        ("الجيش السوداني ينسحب من مدينة ود مدني", 364103),
        ("Bukavu abandoned by the army overnight", 217831),
        ("نیروهای دولتی از کابل عقب نشینی کردند", 1138958),
    ],
)
def test_more_ways_of_saying_the_holders_left_are_reports(detect: Detect, text: str, geonameid: int) -> None:
    assert fallen(detect(text)) == [geonameid]


def test_a_withdrawal_towards_a_city_does_not_report_that_city(detect: Detect) -> None:
    assert fallen(detect("نیروهای دولتی به کابل عقب نشینی کردند")) == []


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Штурмовые части отчитались: Часов Яр взят", 710915),
        ("Kurakhove is taken, the brigade says, while sappers sweep the eastern outskirts", 695357),
        ("طالبان شهر تالقان را تحت کنترل خود درآوردند و زندانیان زندان را آزاد کردند", 1123004),
    ],
)
def test_a_partial_word_away_from_the_verb_and_the_city_does_not_cancel_it(
    detect: Detect, text: str, geonameid: int
) -> None:
    assert fallen(detect(text)) == [geonameid]


def test_a_partial_word_next_to_the_city_still_cancels_it(detect: Detect) -> None:
    assert fallen(detect("Rebels seize Herat airport and two western districts")) == []
    assert fallen(detect("طالبان بخش‌هایی از شهر قندوز را تصرف کرده‌اند")) == []


def test_a_persian_verb_far_after_its_city_still_finds_it(detect: Detect) -> None:
    assert fallen(detect("شهر هرات پس از سه روز جنگ سنگین در کوچه ها سرانجام سقوط کرد")) == [1140026]


def test_the_city_a_few_words_before_the_verb_refers_to_the_headline_place(detect: Detect) -> None:
    assert fallen(detect("Kherson: officials say the city has been fully liberated")) == [706448]


def test_an_aside_after_x_city_is_stepped_over(detect: Detect) -> None:
    assert fallen(detect("Kunduz city, which held out for weeks, fell to the Taliban on Sunday")) == [1135689]


def test_an_actor_named_by_its_capital_is_not_the_place_taken(detect: Detect) -> None:
    assert fallen(detect("Selon Moscou, l'armée russe a libéré Marioupol")) == [701822]


@pytest.mark.parametrize(
    "text",
    [
        "Taliban stormed into Kunduz at dawn",
        "Армия начала операцию по освобождению Мосула",
        "Речник: у планах ворога захопити Покровськ",
        "Ismail Khan was captured by the Taliban",
        "У звільненому Ізюмі відкрили школу",
        "À Goma, prise par le M23 en janvier, les écoles rouvrent",
        "فرمانده پولیس قندهار با صدها سرباز تسلیم شد",
        "قائد الشرطة يؤكد أن قندهار لن تسقط",
        "Ukrainian units liberated two villages south of Bakhmut",
    ],
)
def test_entering_operations_plans_persons_and_background_are_not_reports(detect: Detect, text: str) -> None:
    assert fallen(detect(text)) == []
