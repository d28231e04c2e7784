"""The themes of the network's meetings, from the announcements: the Danish network's main
agendas and the Swedish workshop's climate-smart transport planning. Loaded by a data migration
(with the historical model) and by the demo data."""

THEMES = [
    # slug, English, Danish, Swedish, colour (dark enough for white text, WCAG AA)
    (
        "charging-infrastructure",
        "Charging infrastructure",
        "Ladeinfrastruktur",
        "Laddinfrastruktur",
        "#1d5b32",
    ),
    (
        "car-and-ride-sharing",
        "Car sharing and ride sharing",
        "Samkørsel og delebiler",
        "Samåkning och bilpooler",
        "#5a3d8a",
    ),
    ("public-transport", "Public transport", "Kollektiv transport", "Kollektivtrafik", "#0b5394"),
    ("cycling", "Cycling infrastructure", "Cykelinfrastruktur", "Cykelinfrastruktur", "#8a4b08"),
    (
        "combining-modes",
        "Combining modes of transport",
        "Kombination af transportformer",
        "Kombinerade resor",
        "#6b3e26",
    ),
    (
        "climate-smart-planning",
        "Climate-smart transport planning",
        "Klimasmart transportplanlægning",
        "Klimatsmart transportplanering",
        "#7a1f3d",
    ),
]


def load_themes(Theme) -> None:  # noqa: N803 - a model class, historical or current
    for slug, name, name_da, name_sv, colour in THEMES:
        Theme.objects.update_or_create(
            slug=slug, defaults={"name": name, "name_da": name_da, "name_sv": name_sv, "colour": colour}
        )
