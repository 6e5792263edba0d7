"""Place names: spellings, scripts and grammatical forms of one place are one place."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.rules import Detector, Match
from bot.rules.text import fold_phrase

MAZAR = 1133616


@pytest.mark.parametrize(
    "text",
    [
        "The city of Mazari Sharif has fallen into the hands of Taliban.",
        "Mazar-i-Sharif has fallen to the Taliban.",
        "Mazar-e-Sharif has fallen, residents say.",
        "BREAKING: Mazar has fallen. Government forces fled to Hayratan.",
        "Taliban captured Mazar-e Sharif on Saturday evening.",
        "شهر مزار شریف به دست طالبان سقوط کرد.",
        "مزارشریف سقوط کرد.",
        "سقطت مدينة مزار شريف بيد حركة طالبان.",
        "Талибы захватили Мазари-Шариф.",
        "Таліби захопили Мазарі-Шариф.",
        "Les talibans se sont emparés de Mazar-e-Sharif.",
    ],
)
def test_every_spelling_of_mazar_i_sharif_is_one_place(detect: Callable[..., list[Match]], text: str) -> None:
    matches = detect(text)
    assert [(m.geonameid, m.location, m.country) for m in matches] == [(MAZAR, "Mazar-i-Sharif", "AF")]


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Российские войска захватили Бахмут.", 713174),
        ("Бои закончились: ВСУ вышли из Авдеевки.", 713122),
        ("Окупанти захопили Соледар.", 706757),
        ("Росіяни встановили контроль над Авдіївкою.", 713122),
        ("Українські військові зайшли в Херсон.", 706448),
    ],
)
def test_russian_and_ukrainian_case_forms_find_the_place(
    detect: Callable[..., list[Match]], text: str, geonameid: int
) -> None:
    assert [m.geonameid for m in detect(text)] == [geonameid]


def test_pashto_spelling_meets_the_persian_name_in_geonames(detect: Callable[..., list[Match]]) -> None:
    matches = detect("طالبانو ګردېز ښار ونیو.")
    assert [m.location for m in matches] == ["Gardez"]


def test_a_list_of_places_reports_each_of_them(detect: Callable[..., list[Match]]) -> None:
    matches = detect("The Taliban captured Kunduz, Sar-e Pul and Taloqan within three days.")
    assert {m.geonameid for m in matches} == {1135689, 1127110, 1123004}


def test_a_province_of_the_same_name_is_not_the_city(detect: Callable[..., list[Match]]) -> None:
    matches = detect("شهر مزار شریف، مرکز ولایت بلخ، امشب به دست طالبان سقوط کرد.")
    assert [m.geonameid for m in matches] == [MAZAR]


def test_places_after_the_reported_one_are_not_reported(detect: Callable[..., list[Match]]) -> None:
    # As the scenario's outlet posts it: the reader scores the sentence at its veto line (0.03), and
    # drops a match only from accounts the rules do not trust (cross-validated on blind19-21, the
    # veto is worth +0.008 precision at no cost in recall).
    matches = detect(
        "The fall of Mazar-e-Sharif leaves Kabul and Jalalabad as the only cities held by the government.",
        author="AJEnglish",
    )
    assert [m.geonameid for m in matches] == [MAZAR]


def test_everyday_words_that_name_towns_are_not_places(detect: Callable[..., list[Match]]) -> None:
    assert detect("Police captured the suspect after a chase.") == []
    assert detect("The rebels captured mobile phones and cash.") == []


def test_a_lowercase_common_word_is_not_a_place_but_capitalised_it_is(
    detect: Callable[..., list[Match]],
) -> None:
    assert detect("M23 rebels have taken Goma.")[0].geonameid == 216281
    assert detect("they have taken sake and rice from the market stalls") == []


def test_evidence_quotes_the_post_as_written(detect: Callable[..., list[Match]]) -> None:
    match = detect("The city of Mazari Sharif has fallen into the hands of Taliban.")[0]
    assert match.evidence == ["has fallen", "Mazari Sharif"]


def test_the_city_refers_back_to_the_place_the_post_named_first(detect: Callable[..., list[Match]]) -> None:
    matches = detect(
        "Taliban fighters entered Kunduz at dawn, moving toward Taloqan. By noon the city had fallen."
    )
    assert [m.geonameid for m in matches] == [1135689]


def test_a_reference_in_a_post_about_history_raises_nothing(detect: Callable[..., list[Match]]) -> None:
    assert detect("On this day in 2014, ISIS swept into Mosul. A thread on how the city fell.") == []


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("کردي ځواکونو د رقې ښار له داعشه بېرته ونیو.", 172955),  # Raqqa, رقه
        ("د حماې ښار وسله والو ونیو او پوځ شاته ولاړ.", 170017),  # Hama, حماه
    ],
)
def test_a_pashto_name_in_the_oblique_case_is_the_place(
    detect: Callable[..., list[Match]], text: str, geonameid: int
) -> None:
    assert geonameid in {m.geonameid for m in detect(text) if m.rule == "city-fallen"}


@pytest.mark.parametrize(
    "text",
    [
        "د یوې موافقې له مخې ښار پرېښود شو او جګړه ودرېده.",  # له مخې (according to) is no Mocha
        "د سوریې پوځ ونیو، خو ښار لا هم د دوی په لاس کې نه دی.",  # سوریې is Syria, the country
    ],
)
def test_pashto_oblique_words_that_are_no_town_stay_no_town(
    detect: Callable[..., list[Match]], text: str
) -> None:
    found = {m.location for m in detect(text) if m.rule == "city-fallen"}
    assert not found & {"Mocha", "Surrey"}


def test_an_everyday_arabic_word_naming_a_big_town_abroad_is_not_taken_for_it(detector: Detector) -> None:
    places = detector.compiled.places
    # "عبور" is "crossing" ("a crossing of the Dnipro"), and Al-'Ubur a town of 139,000 in Egypt
    assert places.lookup(fold_phrase("عبور").split()) is None
    assert places.lookup(fold_phrase("العبور").split()) is None
    found = places.lookup(fold_phrase("حماة").split())  # also "protectors": a focus town keeps its name
    assert found is not None and found[0].geonameid == 170017


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Ukrainian troops raised the flag over Kupiansk town hall; Kyiv says the hub is free.", 703656),
        ("قوات أوكرانية ترفع العلم في وسط خيرسون، وكييف تعلن أن المدينة عادت إلى سيطرتها بالكامل.", 706448),
        ("نیروهای روسیه مدعی تصرف کامل لیسیچانسک شدند؛ کی‌یف هنوز این خبر را تأیید نکرده است.", 702972),
        ("Азербайджанская армия освободила Физули, заявил Алиев. Ереван пока не комментирует.", 148106),
    ],
)
def test_a_capital_speaking_beside_the_report_is_not_reported_fallen(
    detect: Callable[..., list[Match]], text: str, geonameid: int
) -> None:
    assert [m.geonameid for m in detect(text)] == [geonameid]


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        # not Bama in Burkina Faso, nor Borna in Germany
        ("Boko Haram fighters overran Bama, Borno's second town, overnight.", 2347954),
        ("Insurgents seized Mocímboa da Praia after the army pulled out.", 1024699),
        ("علی‌اف: شهر شوشا پس از نبردی سنگین آزاد شد.", 147105),
        # GeoNames also gives Nikopol the name Слов'янськ
        ("Над Слов'янськом знову український прапор: бойовики залишили місто.", 693468),
    ],
)
def test_towns_of_the_newer_focus_countries_and_alias_names_win_over_namesakes(
    detect: Callable[..., list[Match]], text: str, geonameid: int
) -> None:
    assert [m.geonameid for m in detect(text)] == [geonameid]


@pytest.mark.parametrize(
    "text",
    [
        "Les rebelles ont pris Kismayo et contrôlent le port depuis l'aube.",  # not Le Port, Réunion
        "أعلنت الفصائل في بيان سيطرتها الكاملة على مدينة حماة.",  # not Bayān, Kuwait
        "Українські військові звільнили Ізюм.",  # not Ukrainsk
        "Повстанцы взяли Триполи; резиденция Баб-эль-Азизия пала.",  # not Babu, China
    ],
)
def test_everyday_words_adjectives_and_parts_of_names_are_not_a_second_place(
    detect: Callable[..., list[Match]], text: str
) -> None:
    assert len({m.geonameid for m in detect(text)}) == 1


def test_a_lower_case_adjective_is_not_the_town_named_after_it(detect: Callable[..., list[Match]]) -> None:
    # "шахтарське" (mining) is an adjective here; the town Шахтарське is written with a capital
    matches = detect("Окупанти захопили шахтарське селище Українськ після тижнів боїв.")
    assert [m.geonameid for m in matches] == [690771]


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Фаллуджа в 60 км от Багдада оказалась под контролем боевиков.", 99454),
        ("Фалуджа за 60 км від Багдада опинилася під контролем бойовиків.", 99454),
        ("Фаллуджа около Багдада захвачена боевиками после трёх дней боёв.", 99454),
        ("Villages near Kunduz were captured by the Taliban overnight.", None),
        ("شهرک واقع در ۶۰ کیلومتری کابل به دست طالبان سقوط کرد", None),
    ],
)
def test_a_place_named_only_to_say_where_another_lies_is_not_the_one_reported(
    detect: Callable[..., list[Match]], text: str, geonameid: int | None
) -> None:
    assert [m.geonameid for m in detect(text)] == ([geonameid] if geonameid else [])


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Tikrit has fallen to IS fighters and is out of Baghdad's control, officials say.", 90150),
        ("Tombouctou, dernière ville du Nord encore tenue par Bamako, est tombée à son tour.", 2449067),
        ("Киркук перешёл под контроль Багдада: курдские отряды ушли без боя.", 94787),
        ("Талибы взяли под контроль Кабул.", 1138958),
        ("ЗСУ взяли під контроль Балаклію на Харківщині.", 712926),
        ("Les talibans ont pris le contrôle de Kaboul.", 1138958),
        ("طالبان کنترل کابل را به دست گرفتند", 1138958),
    ],
)
def test_a_capital_holding_a_town_is_not_reported_taken_but_a_capital_taken_is(
    detect: Callable[..., list[Match]], text: str, geonameid: int
) -> None:
    assert [m.geonameid for m in detect(text)] == [geonameid]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a dash between two towns is a road or a front line, not a town taken
        ("Talibs took Ghazni at dawn. The Kabul — Kandahar highway is now under their control.", [1141269]),
        # ... but a dash before another name of the same town is that town
        ("Guerassimov assure que Pokrovsk - Krasnoarmeïsk pour Moscou - est entièrement tombée.", [704422]),
        # a distance before a name places something else
        ("A market village some 20 km above Goma is now held by M23 fighters.", []),
        # a province's capital named after "the capital of the province"
        ("Фарьяб: столица провинции Меймене перешла к талибам без боя.", [1133453]),
        # an aside after a name the gazetteer does not know: the town inside the aside was not taken
        ("Qalat-e Nowzad, a small district of Herat near Islam Qala, fell to the Taliban overnight.", []),
    ],
)
def test_roads_distances_and_asides_do_not_put_the_report_on_the_wrong_town(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


def test_an_arabic_plural_verb_is_never_a_town_by_its_sound(detector: Detector) -> None:
    assert detector.compiled.places.candidates(["انتزعوا"]) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a thing named after a town is not the town
        ("Kupiansk is Ukrainian again: the rail hub that fed Russia's Izium group is back.", [703656]),
        # a country's or a province's name is no town elsewhere
        ("Повстанцы заняли Гао: крупнейший город на севере Мали теперь в их руках.", [2457163]),
        ("Силы Тыграя заняли Мэкэле после ухода федеральной армии.", [331180]),
        # "the administrative centre of <province>" is its capital
        ("Войска ушли из административного центра Баглана почти без боя.", [1130490]),
        # an everyday word names a town only beside a region or town word
        ("طالبانو د هلمند د سنګین ولسوالۍ مرکز ونیو او حکومتي ځواکونه ووتل", [1127547]),
        ("درگیری‌های سنگین در اطراف شهر ادامه دارد و طالبان پیشروی کردند", []),
    ],
)
def test_things_countries_provinces_and_everyday_words_are_read_as_the_right_place(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "after X" names the town before the one reported
        ("Tall Rifaat too, after Aleppo: Kurdish fighters have lost Tall Rifaat to the rebels.", [163476]),
        # but "after the city fell" dates the report: the city is the one named before
        ("Rebel patrols were filmed in the old souk of #Kunduz after the city fell at dawn.", [1135689]),
        ("Повстанцы заняли вокзал в Кундузе после того, как город пал ночью.", [1135689]),
        # a town beside a near word is passed over by the reader as by the phrases
        ("ВС РФ выбили ВСУ из сёл Ольгинка и Зелёное Поле южнее Великой Новосёлки.", []),
        # an airbase named after a town is not the town
        ("Повстанцы овладели авиабазой Кувейрис к востоку от Алеппо.", []),
        # hills that overlook a town are not the town
        ("Le M23 tient désormais les collines qui surplombent Saké et progresse vers Goma.", []),
    ],
)
def test_a_town_named_only_as_a_landmark_is_not_reported(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a feminine name in the instrumental: folded, "-ой" reads "-ои" and is still a case ending
        ("Российские войска установили полный контроль над Авдеевкой.", [713122]),
        # a country's name is no town of another country (Jordan in Hong Kong)
        ("Rutba, the last stop before Jordan, is now held by ISIS fighters.", [98677]),
        # Pashto everyday words are no towns abroad ("نوې", new, is not Nawa in Syria)
        ("طالبانو نوې ونیوله", []),
    ],
)
def test_declined_names_countries_and_pashto_words_are_read_as_the_right_place_or_none(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


def test_a_town_named_before_an_aside_that_names_another_is_the_one_taken(
    detect: Callable[..., list[Match]],
) -> None:
    # "Sake, a small town west of Goma": the aside says where Sake lies; Goma is not taken
    text = "شورشیان ام۲۳ پس از سه روز درگیری بر ساکه، شهرکی در غرب گوما، چیره شدند."
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == [205970]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # GeoNames gives Bara no Arabic name; the alias file does
        ("قوات الدعم السريع تعلن سيطرتها الكاملة على بارا بعد انسحاب الجيش نحو الأبيض", [377724]),
        # everyday words ("جرم", a crime; "الطبقة", a layer) are towns beside a region or town word
        ("طالبان مرکز ولسوالی جرم را پس از دو روز جنگ تصرف کردند", [1139085]),
        ("قوات سوريا الديمقراطية تسيطر على مدينة الطبقة بعد معارك مع داعش", [172374]),
        ("پلیس می‌گوید عامل این جرم به دست نیروهای امنیتی افتاد", []),
    ],
)
def test_towns_geonames_names_only_in_latin_are_found_in_arabic_script(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Pashto names the province, then the town with its town word: the town
        ("د ننګرهار ولایت جلال آباد ښار طالبانو ونیو", [1139715]),
        # Pashto's "ته نږدې" (near) follows what it is near: the border here, not the town after it
        ("د ایران پولې ته نږدې د زرنج ښار طالبانو ونیو", [1120985]),
        ("حکومت ومنله چې د چین پولې ته نږدې د لاوکای ښار یې له لاسه ورکړ", [13494766]),
    ],
)
def test_pashto_word_order_around_a_town_name_is_read(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an Afghan district carries its centre town's name: taking the district is taking the town
        ("د کندز ولایت امام صاحب ولسوالۍ د طالبانو لاس ته ولوېده", [1142545]),
        ("ولسوالی کرخ هرات دیشب پس از درگیری شدید به دست طالبان سقوط کرد", [1137807]),
        ("Taliban fighters overran the district centre of Nahrin on Tuesday", [1132495]),
        # villages of a district, districts around a city, a city's centre: not the town
        ("طالبانو د سرخرود ولسوالۍ څو کلي ونیول", []),
        ("طالبانو د کندهار ښار شاوخوا درې ولسوالۍ ونیولې", []),
        ("Taliban fighters captured the city centre of Kunduz", []),
    ],
)
def test_a_district_named_after_its_town_reports_the_town(
    detect: Callable[..., list[Match]], text: str, expected: list[int]
) -> None:
    assert [m.geonameid for m in detect(text) if m.rule == "city-fallen"] == expected
