"""The registration form's choice of occasion: the occasion the view read is taken as it is, and
the event's occasions are read only when something asks for them (choices shown, another value
posted), yet always there when it does."""

import pytest

from events.forms import ConfirmRegistrationForm, RegistrationForm
from tests import factories

pytestmark = pytest.mark.django_db


def _labels(form) -> list[str]:
    return [label for _, label in form.fields["occasion"].widget.choices]


@pytest.mark.parametrize("data", [None, {}])
def test_the_choices_are_the_events_occasions_when_shown(data):
    event = factories.event(capacities=(10, 20))
    factories.event(capacities=(5,))  # another event's occasion is never offered
    form = RegistrationForm(data, event=event)
    assert _labels(form) == [occasion.display_label for occasion in event.occasions.order_by("pk")]
    html = form.as_div()
    assert html.count('type="radio"') == 2


def test_a_posted_choice_the_view_read_is_taken_without_reading_the_events_occasions(
    django_assert_num_queries,
):
    event = factories.event(capacities=(10, 20))
    read = event.occasions.select_related("event").order_by("pk").first()
    with django_assert_num_queries(0):
        form = ConfirmRegistrationForm(
            {"occasion": str(read.pk), "accessibility": ""}, event=event, read=read
        )
        assert form.is_valid(), form.errors
    assert form.cleaned_data["occasion"] is read


def test_another_posted_choice_is_looked_for_among_the_events_occasions():
    event, other = factories.event(capacities=(10,)), factories.event(capacities=(10,))
    own = event.occasions.get()
    assert RegistrationForm({"occasion": str(own.pk)}, event=event).is_valid()
    refused = RegistrationForm({"occasion": str(other.occasions.get().pk)}, event=event)
    assert not refused.is_valid()
    assert refused.errors["occasion"] == ["Choose one of the occasions of this event."]
