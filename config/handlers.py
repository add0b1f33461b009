"""Error answers for addresses no view takes: the integration API's in its JSON shape, the pages' as pages."""

import json

from django.http import HttpResponseNotFound
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found


def not_found(request, exception):
    if request.path.startswith("/api/"):
        body = {"error": {"code": "not_found", "message": _("Not found.")}}
        return HttpResponseNotFound(json.dumps(body, ensure_ascii=False), content_type="application/json")
    return page_not_found(request, exception)
