"""Rounds 21 to 24 of the detection work (each studied on a fresh blind set's errors, after its first
score: blind23 to blind26): one case per mechanism, in words written here, and the near-misses
each must leave alone. Checked on the phrases alone, which the second reader would otherwise cover for."""

from __future__ import annotations

import pytest

from bot.rules import Detector
from tests.conftest import fallen_at


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # --- round 21 ---
        # Arabic short vowels inside a word no longer split it: "طُرِدَ" is "طرد", expelled
        ("طُرِدَ مسلحو داعش من مدينة هيت بعد معارك استمرت يومين", [95788]),
        ("قوات الجيش حَرَّرَت مدينة الرطبة بالكامل", [98677]),
        # a part taken besides the town, joined by "and", does not make it partial
        ("The Taliban took Bamyan and its airport without a fight", [1147242]),
        ("طالبانو د بامیانو ښار او د هغه هوايي ډګر ونیول", [1147242]),
        # new verbs: wrest, récupérer, lost (потерять, втратити), sweep (تجتاح), took it over (تسلمتها)
        ("Rebels wrested Saraqib from government forces after a night of heavy fighting", [164816]),
        ("L'armée malienne a récupéré Kidal, bastion des rebelles touareg depuis 2012", [2455290]),
        ("Армия Мьянмы потеряла Лашо, признали в военном совете", [1314759]),
        ("Сили хунти втратили Лашо після тижня боїв", [1314759]),
        ("قوات الدعم السريع تجتاح مدينة بارا وسط نزوح السكان", [377724]),
        ("دخلت قوات العشائر مدينة هيت صباحاً وتسلمتها دون مقاومة", [95788]),
        # spellings: Bulo Burte, النهود, Марави, جبرئیل beside a town word
        ("Somali forces captured Bulo Burte from al-Shabaab on Tuesday", [63689]),
        ("قوات الدعم السريع تسيطر على النهود بعد انسحاب الجيش", [378699]),
        ("Филиппинская армия объявила Марави освобождённым от боевиков", [1701053]),
        ("ارتش آذربایجان شهر جبرئیل را پس گرفت. مردم در باکو جشن گرفتند.", [148141]),
        # a dateline names where the news comes from, unless "the city" then points back to it
        ("خبر از هرات: طالبان کنترل ولسوالی کرخ را به دست گرفتند", [1137807]),
        ("نخست‌وزیر عراق از تکریت: شهر به‌طور کامل از داعش پس گرفته شد", [90150]),
        # --- round 22 ---
        # after "ولسوالی X" the region word names the next name's province, not X's
        ("ولسوالی فرخار ولایت تخار پس از دو روز جنگ سقوط کرد", [1142239]),
        # "د <province> د <district> ولسوالۍ": the first name is the province
        ("د تخار د فرخار ولسوالۍ مرکز طالبانو ونیو", [1142239]),
        # Pashto "ته" after a pronoun or a group: who the town was left to
        ("والي ترینکوټ یې هغوی ته پرېښود او کندهار ته لاړ", [1122747]),
        # a Cyrillic form that spells a town abroad and a focus-country town declined: the latter
        ("Армия Судана вернула себе Сингу после долгих боёв", [366847]),
        # verbs: حرروا, occuper, "ازاد شوی", "از دست … بیرون آمد"
        ("مقاتلو المعارضة حرروا مدينة نوى في ريف درعا", [166365]),
        ("Le M23 occupe Kirumba depuis samedi matin", [212760]),
        ("روسي چارواکي وايي لیسیچانسک په بشپړ ډول ازاد شوی", [702972]),
        ("مقامات محلی: شهر طبقه به طور کامل از دست داعش بیرون آمد", [172374]),
        # --- round 23 ---
        # verbs: running the town, "est occupé", يخسر (loses), "відбили у бойовиків", "له … څخه پاک شو"
        ("Residents say ISWAP fighters have been running the town of Dikwa since Monday night", [2344854]),
        ("Rutshuru-centre est occupé depuis ce matin par le M23", [206047]),
        ("الجيش الصومالي يخسر مدينة قوريولي أمام مقاتلي الشباب", [52867]),
        ("Сили АТО відбили у бойовиків Костянтинівку", [705104]),
        ("د جرابلس ښارګوټی له داعش څخه پاک شو", [169179]),
        # spellings: السوكي, عنه beside a town word
        ("قوات الجيش تسترد السوكي وتتقدم نحو سنجة", [378271]),
        ("القوات العراقية تعلن تحرير مدينة عنه من داعش", [6765385]),
        # a hedge that names its own next target ("and press on towards Mekelle") leaves this town taken
        ("Федеральні війська взяли Аксум і продовжують наступ на Мекеле", [344420]),
        # "fears for the ruins" after a capture is no fear of a fall; a region's name is no town abroad
        ("La prise de Palmyre par l'EI cette nuit fait craindre pour les vestiges antiques", [163808]),
        ("Сирийская армия вытеснила боевиков из Каламуне и заняла Ябруд", [162627]),
        # --- round 24 ---
        # Pashto "اسلام کلا"; "after they left it" (بعد أن أخلاها) is what came before, not background
        ("طالبانو د اسلام کلا سرحدي ښارګوټی ونیو", [1142404]),
        ("مدينة حدر باتت في يد القوات الصومالية بعد أن أخلاها مقاتلو الشباب", [49747]),
    ],
)
def test_reports_of_rounds_21_to_24_are_found_at_their_town(
    phrases: Detector, text: str, expected: list[int]
) -> None:
    assert fallen_at(phrases, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # --- round 21 ---
        # microdistricts and security precincts are parts of a town
        "Russian forces now hold two microdistricts of Pokrovsk, the Ukrainian army says",
        "طالبانو د کندز ښار دوه امنیتي حوزې ونیولې",
        # "выдумка" (a fabrication) denies
        "Генштаб назвал выдумкой сообщения о взятии Купянска",
        # a town word before an unknown name: 'the city' is that name, not the town of the next sentence
        "ارتش آذربایجان شهر فلان‌آباد را پس گرفت. مردم در باکو جشن گرفتند.",
        # a part joined by "and" to a part: still no town taken
        "Rebels seized the airport and half of Kunduz",
        # --- round 22 ---
        # fears of a fall, a promise, a task: no fall yet
        "مخاوف من سقوط مدينة ميناكا بيد التنظيم خلال أيام",
        "قوماندان ژمنه وکړه چې الابیض به ډېر ژر د دوی لاس ته ورشي",
        "Командование поставило задачу взять Триполи до весны",
        # the old city is a quarter
        "المقاتلون يطردون التنظيم من المدينة القديمة في الرقة",
        "Rebels seized the old city of Homs overnight",
        # --- round 23 ---
        # soldiers who left toward Herat: "د هرات پر لور" is where they went
        "طالبانو د هرات پر لور ووتلي سرتېري ونیول",
        # fearing a fall, classes resuming, a district of a city, a denial with "allegedly"
        "Le blocus fait craindre que Nioro du Sahel ne tombe d'ici peu",
        "Les cours reprennent à l'université de Goma malgré la présence du M23",
        "Армия отбила у боевиков восточный район Алеппо",
        "اوکرایني پوځ دا ادعا رده کړه چې ګواکې روسانو کوپیانسک نیولی",
        # --- round 24 ---
        # "since the Taliban took Farah" is background; a vow in the plural; "Free" in the Free Syrian Army
        "از زمانی که طالبان فراه را گرفتند، بازار شهر خلوت شده است",
        "المتمردون يتوعدون باستعادة المخا خلال أيام",
        "Місто повністю контролює Вільна сирійська армія",
    ],
)
def test_near_misses_of_rounds_21_to_24_stay_silent(phrases: Detector, text: str) -> None:
    assert fallen_at(phrases, text) == []


def test_fears_for_civilians_after_a_report_cancel_nothing(phrases: Detector) -> None:
    # "fears for the civilians" is about something else than the fall the post reports
    text = "الدعم السريع يسيطر على مدينة الفاشر بعد حصار طويل، ومخاوف على المدنيين داخلها"
    assert fallen_at(phrases, text) == [379555]
