"""The API's JSON parser: DRF's, refusing in the one error shape what would otherwise be a server error."""

import json

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """Nesting deeper than Python's recursion allows, and text that is not Unicode (half a surrogate pair, which
    JSON's escapes can spell), are refused as a body that cannot be read (400 parse_error)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON is nested too deeply to be read.")) from None
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise exceptions.ParseError(_("The JSON holds text that is not valid Unicode (half a surrogate pair).")) from None
        except RecursionError:
            raise exceptions.ParseError(_("The JSON is nested too deeply to be read.")) from None
        return data
