"""Read a form out of a page the way a browser would submit it, so tests GET then POST."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, wanted):
        super().__init__(convert_charrefs=True)
        self.wanted = wanted  # a form id, an action URL, or None for the first form
        self.depth = 0  # inside the wanted form when > 0
        self.done = False
        self.fields: list[tuple[str, str]] = []
        self.select = None
        self.select_value = None
        self.first_option = None
        self.option_value = None
        self.textarea = None
        self.text = []

    def _is_wanted(self, attrs) -> bool:
        if self.wanted is None:
            return True
        return self.wanted in (attrs.get("id"), attrs.get("action"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.done and self.depth == 0 and self._is_wanted(attrs):
            self.depth = 1
            return
        if not self.depth:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self.fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self.select, self.select_value, self.first_option = name, None, None
        elif tag == "option" and self.select:
            value = attrs.get("value", "")
            if self.first_option is None:
                self.first_option = value
            if "selected" in attrs:
                self.select_value = value
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "form":
            self.depth, self.done = 0, True
        elif tag == "select" and self.select:
            value = self.select_value if self.select_value is not None else self.first_option
            self.fields.append((self.select, value or ""))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, "".join(self.text).lstrip("\n")))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text.append(data)


def form_data(response, form=None) -> dict:
    """The values a browser would post from the page's form (by id or action; first form)."""
    reader = _FormReader(form)
    reader.feed(response.content.decode())
    assert reader.done or reader.fields, f"no form {form!r} on the page"
    data: dict = {}
    for name, value in reader.fields:
        if name in data:
            existing = data[name]
            data[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[name] = value
    data.pop("csrfmiddlewaretoken", None)
    return data


def text(response) -> str:
    return response.content.decode()
