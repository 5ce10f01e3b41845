"""zh-hans is the default language and English is complete beside it: every message in
the code is in the zh_Hans catalogue, translated, not fuzzy, and compiled."""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

LOCALE = Path(settings.BASE_DIR, "aftersales", "locale")


def _catalogue(lang):
    return polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))


def test_zh_hans_catalogue_is_complete_and_not_fuzzy():
    po = _catalogue("zh_Hans")
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == [] and fuzzy == []


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_compiled_catalogue_matches_the_source(lang):
    po = _catalogue(lang)
    mo = polib.mofile(str(LOCALE / lang / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}
    for entry in po.translated_entries():
        if entry.msgid_plural:
            continue
        assert compiled.get((entry.msgctxt, entry.msgid)) == entry.msgstr, entry.msgid


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext not installed")
def test_every_message_in_the_code_is_in_the_catalogue(tmp_path, settings, monkeypatch):
    # given the messages extracted afresh from a copy of the code (without its catalogues)
    source = tmp_path / "src"
    shutil.copytree(
        Path(settings.BASE_DIR, "aftersales"),
        source / "aftersales",
        ignore=shutil.ignore_patterns("locale", "__pycache__", "*.mo", "*.po"),
    )
    (source / "locale").mkdir()
    settings.LOCALE_PATHS = [str(source / "locale")]
    monkeypatch.chdir(source)
    call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    fresh = polib.pofile(str(source / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    # then the committed catalogue has them all
    known = {(e.msgctxt, e.msgid) for e in _catalogue("zh_Hans") if not e.obsolete}
    missing = sorted(e.msgid for e in fresh if (e.msgctxt, e.msgid) not in known)
    assert fresh.translated_entries() == [] and len(fresh) > 100
    assert missing == [], "run `make messages` and translate: " + repr(missing[:20])
