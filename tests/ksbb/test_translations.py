"""The Indonesian catalogue is complete: every string the code marks has an Indonesian translation."""

import shutil
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command

LOCALE = Path(settings.BASE_DIR) / "locale"
IGNORE = [".venv/*", ".data/*", "tests/*", "staticfiles/*", "bench/*", "artifacts/*"]


def _catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def test_every_marked_string_has_an_indonesian_translation():
    # Extract the code's strings afresh into a throwaway locale and hold the catalogue against them.
    try:
        call_command("makemessages", locale=["zz"], ignore_patterns=IGNORE, verbosity=0)
        current = {(e.msgctxt, e.msgid) for e in _catalogue("zz")}
        assert len(current) > 300  # the extraction found the code's strings
    finally:
        shutil.rmtree(LOCALE / "zz", ignore_errors=True)
    indonesian = {(e.msgctxt, e.msgid): e for e in _catalogue("id") if not e.obsolete}
    missing = sorted(str(key) for key in current - indonesian.keys())
    assert not missing, f"run `make messages` and translate: {missing}"
    untranslated = [
        e.msgid
        for key, e in indonesian.items()
        if key in current and (not e.translated() or "fuzzy" in e.flags)
    ]
    assert not untranslated, f"translate in locale/id: {untranslated}"


def test_translations_keep_their_placeholders():
    for entry in _catalogue("id"):
        for placeholder in ("%(", "{{"):
            if entry.translated() and not entry.msgid_plural:
                assert entry.msgid.count(placeholder) == entry.msgstr.count(placeholder), (
                    entry.msgid
                )
