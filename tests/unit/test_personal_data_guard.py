"""The personal-data guard against a corpus of realistic request texts by social workers.

Positives name the kind and the exact fragment the guard must report; negatives are innocent texts full of
amounts, dates, times, case numbers and nine-digit numbers that fail the 11-proef, which must pass untouched.
Every BSN and IBAN in the corpus goes through a helper that checks it with python-stdnum, so a typo in the
corpus fails loudly at collection instead of silently testing the wrong thing.
"""
import re

import pytest
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

from models.privacy import check_no_personal_data, find_personal_data
from models.rules import RuleViolation


def bsn(written: str) -> str:
    """A BSN as a worker would write it; nine digits that pass the 11-proef."""
    assert len(re.sub(r"\D", "", written)) == 9 and stdnum_bsn.is_valid(written), written
    return written


def not_bsn(written: str) -> str:
    """Nine digits that fail the 11-proef, so not a BSN."""
    assert len(re.sub(r"\D", "", written)) == 9 and not stdnum_bsn.is_valid(written), written
    return written


def iban(written: str) -> str:
    """An IBAN with a valid checksum, in any spacing or case."""
    assert stdnum_iban.is_valid(written), written
    return written


def iban_wrong_checksum(written: str) -> str:
    """An IBAN whose only fault is its check digits: with them corrected it would be valid."""
    compact = stdnum_iban.compact(written)
    corrected = compact[:2] + stdnum_iban.calc_check_digits(compact) + compact[4:]
    assert not stdnum_iban.is_valid(written) and stdnum_iban.is_valid(corrected), written
    return written


# (text with {} where the fragment goes, kind, fragment)
POSITIVES = [
    # BSN: plain, with dots, spaces or dashes, in brackets, at the end of a sentence
    ("Moeder van drie, BSN {}, vraagt € 75 voor boodschappen tot 12-03-2027", "bsn", bsn("123456782")),
    ("bsn: {} — uitkering is gestopt, graag € 150 overbrugging", "bsn", bsn("1234.56.782")),
    ("Vader (BSN {}) heeft € 60 nodig voor een OV-kaart", "bsn", bsn("1234 56 782")),
    ("Burgerservicenummer {}. Wasmachine kapot, vraag € 250", "bsn", bsn("123 456 782")),
    ("Cliënt {} wacht op toeslag, € 90 voor eten", "bsn", bsn("123-456-782")),
    ("Zoon heeft BSN {} en heeft schoenen nodig", "bsn", bsn("111222333")),
    ("Gegevens: {}", "bsn", bsn("799642630")),
    ("Aanvraag voor mevrouw, nummer {}, € 45 voor medicijnen", "bsn", bsn("578230859")),
    ("BSN {} bij de gemeente bekend, beslissing tot 01-04-2026", "bsn", bsn("132845751")),
    ("Jongere (19) met BSN {}, kamerhuur € 400", "bsn", bsn("877001467")),
    ("{} is het BSN van de cliënt", "bsn", bsn("991244035")),
    ("BSN {}; schulden bij energieleverancier", "bsn", bsn("7309.09.864")),
    # IBAN: several countries, grouped or not, upper- or lowercase, followed by words
    ("Graag € 120 overmaken naar {} t.n.v. de verhuurder", "iban", iban("NL91ABNA0417164300")),
    ("Rekening {} (moeder)", "iban", iban("NL91 ABNA 0417 1643 00")),
    ("rekeningnummer {} voor de huur", "iban", iban("nl91abna0417164300")),
    ("overmaken op {} svp", "iban", iban("nl20 ingb 0001 2345 67")),
    ("IBAN: {}.", "iban", iban("NL20INGB0001234567")),
    ("Betaling naar ({}) van de woningcorporatie", "iban", iban("NL44RABO0123456789")),
    ("Duitse rekening van de vader {} voor alimentatie", "iban", iban("DE89 3704 0044 0532 0130 00")),
    ("Familie in Duitsland: {}", "iban", iban("DE89370400440532013000")),
    ("Belgische rekening {} voor de huur van april", "iban", iban("BE71 0961 2345 6769")),
    ("Rekening {} voor de borg", "iban", iban("BE71096123456769")),
    ("Tante in Engeland, {}, stuurt soms geld", "iban", iban("GB29 NWBK 6016 1331 9268 19")),
    ("Rekening in Frankrijk {} nog open", "iban", iban("FR14 2004 1010 0505 0001 3M02 606")),
    ("Spaanse rekening {} opgeheven", "iban", iban("ES9121000418450200051332")),
    # phone: mobile and landline, national and international, all the ways people type them
    ("Bel moeder op {} na 15:00", "phone", "06-12345678"),
    ("Mobiel {}, alleen 's middags", "phone", "06 1234 5678"),
    ("Tel {} voor afspraak", "phone", "0612345678"),
    ("Bereikbaar op {} (WhatsApp)", "phone", "+31 6 12345678"),
    ("Nummer vader: {}", "phone", "+31(0)6 12345678"),
    ("Bellen via {} graag", "phone", "+31 (0)6-1234 5678"),
    ("Oma: {}", "phone", "0031 6 12345678"),
    ("tel:{}", "phone", "0031612345678"),
    ("Schoolmaatschappelijk werk belde vanaf {} over het kind", "phone", "+31612345678"),
    ("Thuisnummer {}, voicemail inspreken", "phone", "020-1234567"),
    ("Huisarts van het gezin {}", "phone", "010 123 4567"),
    ("Buurvrouw helpt, tel. {}", "phone", "030-2345678"),
    ("Vast nummer {} werkt niet meer", "phone", "(020) 123 4567"),
    ("Mobiel {} is van de zoon", "phone", "06 - 12345678"),
    ("Bel {} na schooltijd", "phone", "06-12 34 56 78"),
    ("Tel. {}, € 35 voor beltegoed", "phone", "0172-123456"),
    ("Nummer in Den Haag {}", "phone", "+31 70 123 4567"),
    ("Afspraak op 05-03-2026, bel vooraf {}", "phone", "06 12345678"),
    # e-mail
    ("Mail naar {} voor de afspraak", "email", "j.devries@gmail.com"),
    ("Contact: {}.", "email", "Fatima.El-Amrani+huur@outlook.nl"),
    ("E-MAIL {} GRAAG BEVESTIGEN", "email", "M.BAKKER@HOTMAIL.COM"),
    ("Verhuurder mailt vanaf {}", "email", "info@familie-jansen.nl"),
    ("Student, mail {}, vraagt € 80 voor boeken", "email", "k.smit@student.uva.nl"),
    ("Doorsturen aan <{}>", "email", "piet_de_boer@ziggo.nl"),
    ("Moeder (mail: {}) heeft 3 kinderen", "email", "sanne1987@live.nl"),
    # postcode with a house number, after or before it, with additions
    ("Gezin woont op {}, vraagt € 200 voor een bed", "address", "1012 AB 12"),
    ("Adres {}, graag bezoek", "address", "1012AB nr 5"),
    ("Woont aan de {} Amsterdam", "address", "Damstraat 12, 1012 AB"),
    ("Kamer op {}, huur achterstand", "address", "3511 LX 4-bis"),
    ("adres: {} (bovenwoning)", "address", "1012 ab 12"),
    ("Postcode {}, eten voor het weekend", "address", "3512 JE, huisnummer 7"),
    ("Woont op de {} Utrecht", "address", "Kerkstraat 12-2, 3511 LX"),
    ("Nieuw adres {} sinds maart", "address", "Oudegracht 145a 3511 AH"),
    ("Postcode en nummer: {}", "address", "1012 AB 12A"),
    ("Laan van {} Den Haag, € 95 voor de energierekening", "address", "Meerdervoort 100, 2517 AN"),
    ("Bezoekadres {}, tweede etage", "address", "3011 AA, nr. 8"),
    ("Brief gestuurd naar\n{} Amsterdam", "address", "Damstraat 12\n1012 AB"),
    ("Woont in {} Utrecht", "address", "Kerkstraat 12 A, 3511 LX"),
    ("Verhuisd naar {}", "address", "9711 LM huisnr. 3"),
    ("Snel genoteerd: {} achterhuis", "address", "1012AB12"),
    ("Woont op {} Utrecht, kamer achter", "address", "Oudegracht 145 bis, 3511 AH"),
    ("Moeder bellen op {}", "phone", "06-1234-5678"),
    ("Zus in Rotterdam: {}", "phone", "+31-6-12345678"),
    ("Bel {} voor de sleutel", "phone", "(06) 12345678"),
    ("Nummer {}, na 17 uur", "phone", "(0172) 123456"),
    ("Kind, nr.{} bij de SVB, heeft een fiets nodig", "bsn", bsn("215890309")),
]

NEGATIVES = [
    # amounts
    "Moeder van drie, uitkering, € 75 voor boodschappen tot 12-03-2027",
    "Gevraagd bedrag € 1.250,00 voor de huurachterstand",
    "Nog 75,50 tekort voor de energierekening",
    "Bijdrage van € 12.345,67 over twee jaar aan de schuldeiser",
    "Totaal 1250 euro aan schulden, afbetaling 50 euro per maand",
    "EUR 1250 voor een koelkast en een wasmachine",
    "Beltegoed € 0,50 over",
    "Jaarbudget van het team is € 123.456.782",
    "Bedrag in centen: {} (controle boekhouding)".format(not_bsn("123456789")),
    # dates and times
    "Uitkering stopt op 12-03-2026, vraag overbrugging",
    "Aanvraag ingediend 2026-03-12, nog geen reactie",
    "Vonnis van 12/03/2026, ontruiming dreigt",
    "Brief van 12.03.2026 van de deurwaarder",
    "Periode van 01-02-2026 t/m 28-02-2026",
    "Afspraak bij de schuldhulp op 05-03-2026 14:30",
    "Intake 01-02-2026 10 uur bij het wijkteam",
    "Gesprek op 09-01-2026 09:00 - 10:30 met moeder en de coach",
    "Tussen 09:00 en 10:30 bereikbaar via het wijkteam",
    "Op 12 maart 2026 om 14.30 uur huisbezoek",
    "Sinds week 06 van 2026 geen inkomen",
    "Sinds 01-01-2026 06:00 uur geen stroom",
    "1e termijn 12-03-2026, 2e termijn 12-04-2026",
    "Op 2026-03-05 14:30 bij de deurwaarder",
    # nine-digit numbers that fail the 11-proef
    "Referentie {} bij de gemeente".format(not_bsn("123456789")),
    "Factuurnummer {} van de energieleverancier".format(not_bsn("987654321")),
    "Klantnummer {} bij de woningcorporatie".format(not_bsn("111111111")),
    "Dossier {} is overgedragen".format(not_bsn("246813579")),
    "Kenmerk {} op de aanmaning".format(not_bsn("555.555.555")),
    "Ordernummer {} (bed en matras)".format(not_bsn("876 543 210")),
    "Polis {} van de zorgverzekeraar".format(not_bsn("2222.22.222")),
    # a BSN-looking number inside a longer digit string
    "Betalingskenmerk 1234567820 van het CJIB",
    "Contractnummer 91234567821 bij de energieleverancier",
    "Transactie 20260312123456782 in het bankoverzicht",
    # IBAN-like strings with a wrong checksum
    "Overmaken naar {} (klopt niet, navragen)".format(iban_wrong_checksum("NL91ABNA0417164301")),
    "Rekening {} volgens de brief".format(iban_wrong_checksum("NL91 ABNA 0417 1643 01")),
    "Rekening {} van de verhuurder".format(iban_wrong_checksum("NL12ABNA0417164300")),
    "Duitse rekening {} onbekend".format(iban_wrong_checksum("DE00 3704 0044 0532 0130 00")),
    "Belgische rekening {} klopt niet".format(iban_wrong_checksum("BE72096123456769")),
    "Engelse rekening {} fout".format(iban_wrong_checksum("GB30 NWBK 6016 1331 9268 19")),
    # a postcode without a house number, or followed by an amount
    "Gezin woont in 1012 AB, zoekt hulp bij de huur",
    "Postcodegebied 3511 LX heeft een voedselbank",
    "Woont in 1012 AB € 50 nodig voor schoolspullen",
    "Wijk 1012 AB 50 euro per kind voor het schoolreisje",
    "Postcode 3512 JE, 25% korting via de Stadspas",
    "Regio 2517 AN 12,50 per week voor boodschappen",
    # words after a four-digit number that happen to look like postcode letters
    "Huurtoeslag in 2026 en 2027 aangevraagd",
    "Schuld van 1500 op 12 maart afgelost",
    "Budget 2026 is 4 keer gebruikt",
    "Sinds 2019 in 3 verschillende opvanghuizen gewoond",
    # service numbers, not a person's
    "Bel de Belastingtelefoon 0800-0543 over de toeslag",
    "Politie geen spoed 0900-8844",
    "Geldfit 0800 8115 kan helpen",
    "Infolijn 0900 1234567 van de gemeente",
    "UWV werkgevers 088 898 9295",
    # case numbers, counts, percentages, ages
    "zaak 2026-0042, vervolg op eerdere aanvraag",
    "Dossiernummer 0042-2026-17",
    "3 kinderen van 4, 7 en 12 jaar, vader werkt 24 uur",
    "Korting van 30% op de eigen bijdrage, 2 van de 5 termijnen betaald",
    "Kamer 2.14 in het buurthuis, 10 tot 12 uur",
    "Versie 1.2.3 van het formulier",
    # at-signs and dots that are no e-mail address
    "Zie @wijkteam_west op intranet",
    "Overleg met de coach @ het buurthuis",
    "Bijlage: begroting.xlsx en brief.pdf",
    # plain texts
    "Alleenstaande moeder, schulden, geen inkomen sinds januari",
    "Vader zit in de WSNP, kinderen hebben winterjassen nodig",
    "",
]


@pytest.mark.parametrize("template, kind, fragment", POSITIVES, ids=[f"{k}-{f}" for _, k, f in POSITIVES])
def test_personal_data_is_found_with_its_kind_and_fragment(template, kind, fragment):
    text = template.format(fragment)
    findings = find_personal_data(text)
    assert [(finding.kind, finding.fragment) for finding in findings] == [(kind, fragment)]
    assert all(text[finding.start:finding.end] == finding.fragment for finding in findings)


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda text: text[:40])
def test_innocent_text_is_not_flagged(text):
    assert find_personal_data(text) == []
    check_no_personal_data(text, field="motivation")


def test_the_corpus_is_large_and_balanced():
    assert len(POSITIVES) + len(NEGATIVES) >= 120
    assert {kind for _, kind, _ in POSITIVES} == {"bsn", "iban", "phone", "email", "address"}
    assert len(NEGATIVES) >= 55 and len(POSITIVES) >= 55


def test_none_is_no_personal_data():
    assert find_personal_data(None) == []


def test_several_kinds_are_all_reported_in_order():
    text = (f"Moeder (BSN {bsn('123456782')}), mail a.jansen@gmail.com, tel 06-12345678, "
            f"woont op 1012 AB 12; huur naar {iban('NL91 ABNA 0417 1643 00')}. Dochter BSN {bsn('111222333')}.")
    findings = find_personal_data(text)
    assert [(finding.kind, finding.fragment) for finding in findings] == [
        ("bsn", "123456782"),
        ("email", "a.jansen@gmail.com"),
        ("phone", "06-12345678"),
        ("address", "1012 AB 12"),
        ("iban", "NL91 ABNA 0417 1643 00"),
        ("bsn", "111222333"),
    ]
    assert [finding.start for finding in findings] == sorted(finding.start for finding in findings)


def test_the_digits_of_an_iban_are_not_also_a_phone_number_or_bsn():
    findings = find_personal_data(f"Rekening {iban('NL20 INGB 0001 2345 67')} of {iban('NL44RABO0123456789')}")
    assert [finding.kind for finding in findings] == ["iban", "iban"]


def test_an_iban_followed_by_words_or_another_iban_is_still_found():
    text = f"Rekening {iban('BE71 0961 2345 6769')} NL91ABNA0417164300 voor huur en {iban('BE71096123456769')} voor gas"
    findings = find_personal_data(text)
    assert [(finding.kind, finding.fragment) for finding in findings] == [
        ("iban", "BE71 0961 2345 6769"), ("iban", "NL91ABNA0417164300"), ("iban", "BE71096123456769")]


def test_refusal_names_every_fragment_and_the_field():
    text = "Bel 06 1234 5678 of mail j.devries@gmail.com"
    with pytest.raises(RuleViolation) as refused:
        check_no_personal_data(text, field="motivation")
    assert refused.value.field == "motivation"
    message = str(refused.value.message)
    assert "‘06 1234 5678’ lijkt een telefoonnummer" in message  # all at once, so one edit fixes them all
    assert "‘j.devries@gmail.com’ lijkt een e-mailadres" in message


def test_refusal_of_several_texts_lists_them_all_in_order_and_marks_each_where_it_stands():
    from models.privacy import PersonalDataFound, check_texts_for_personal_data
    texts = {"situation": "Moeder, BSN 111222333, bel 06-12345678.", "prevents": "Afsluiting.",
             "alternatives_note": "Mail a.jansen@example.org"}
    with pytest.raises(PersonalDataFound) as refused:
        check_texts_for_personal_data(texts)
    assert refused.value.field == "situation" and refused.value.count() == 3
    assert list(refused.value.messages()) == ["situation", "alternatives_note"]
    for field, parts, found in refused.value.by_field():
        assert "".join(text for text, _finding in parts) == texts[field]  # the whole text, nothing lost
        assert [text for text, finding in parts if finding] == [finding.fragment for finding in found]


@pytest.mark.parametrize("template, kind, fragment", POSITIVES[::6], ids=[f"{k}-{f}" for _, k, f in POSITIVES[::6]])
def test_refusal_quotes_the_fragment(template, kind, fragment):
    with pytest.raises(RuleViolation) as refused:
        check_no_personal_data(template.format(fragment), field="comment")
    assert fragment in str(refused.value) and refused.value.field == "comment"


@pytest.mark.parametrize("written", ["BE43 9700 0000 0101", "BE43970000000101"])
def test_an_iban_with_a_valid_checksum_is_found_even_when_stdnum_does_not_know_its_bank(written):
    # python-stdnum's Belgian check refuses bank code 970 (not in its table); ISO 13616 mod-97 accepts it
    assert not stdnum_iban.is_valid(written) and stdnum_iban.is_valid(written, check_country=False)
    text = f"Huur overmaken naar {written} van de verhuurder"
    assert [(f.kind, f.fragment) for f in find_personal_data(text)] == [("iban", written)]
