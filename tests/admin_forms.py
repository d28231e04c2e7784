"""Reading an admin page's form as a browser would submit it, for tests that post a change form
back with a few fields changed."""

from html.parser import HTMLParser


class FormReader(HTMLParser):
    """The fields a browser would submit from one form of a page."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[list[str]] = []
        self._select: str | None = None
        self._select_options: list[str] = []
        self._select_chosen = False
        self._multiple = False
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and "name" in attrs:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append([attrs["name"], attrs.get("value") or ("on" if kind == "checkbox" else "")])
        elif tag == "select":
            self._select, self._select_options, self._select_chosen = attrs.get("name"), [], False
            self._multiple = "multiple" in attrs
        elif tag == "option" and self._select:
            self._select_options.append(attrs.get("value", ""))
            if "selected" in attrs:
                self.fields.append([self._select, attrs.get("value", "")])
                self._select_chosen = True
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]
            self.fields.append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            if not self._select_chosen and not self._multiple and self._select_options:
                self.fields.append([self._select, self._select_options[0]])
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the newline that follows the opening tag.
            self._textarea[1] = self._textarea[1].removeprefix("\n")
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def form_data(response, form_id: str) -> dict[str, list[str]]:
    """The data a browser would post from the form `form_id` of an admin page, as the test client takes it."""
    reader = FormReader(form_id)
    reader.feed(response.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    return data
