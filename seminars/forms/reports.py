"""The filters of a sign-ups and attendance report, read from the query string."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from seminars.models import Booking
from seminars.selectors.reports import DEFAULT_SORT, SORT_KEYS, ReportFilters
from seminars.validators import validate_session_local_year

SEARCH_MAX_LENGTH = 100


class EventSelect(forms.Select):
    """A <select> written in one pass: a course's report offers every event (500 in the page
    benchmark), and Django's template per <option> made it the largest cost of the page."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = str(value or "")
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, mark_safe(" selected") if str(key) == selected else "", label) for key, label in self.choices),
        )
        return format_html("<select{}>{}</select>", flatatt(attrs), options)


class ReportFilterForm(forms.Form):
    """States (any of Booking.State, so a state added later is offered too), the event's first start
    between two days in the viewer's zone, one event (seminar and course reports), words of the
    learner's name, username or email, and the sort ("key" or "-key" of SORT_KEYS)."""

    state = forms.MultipleChoiceField(label=gettext_lazy("State"), required=False, widget=forms.CheckboxSelectMultiple)
    start_from = forms.DateField(
        label=gettext_lazy("Starting from"),
        required=False,
        validators=[validate_session_local_year],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    start_to = forms.DateField(
        label=gettext_lazy("Starting until"),
        required=False,
        validators=[validate_session_local_year],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    event = forms.ChoiceField(label=gettext_lazy("Event"), required=False, widget=EventSelect)
    q = forms.CharField(label=gettext_lazy("Learner"), required=False, max_length=SEARCH_MAX_LENGTH)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, events=(), zone="UTC"):
        super().__init__(data)
        self.fields["state"].choices = Booking.State.choices
        self.fields["start_from"].help_text = _("The event's first session, in your time zone (%(zone)s).") % {
            "zone": zone
        }
        if events:
            choices = [(str(event.pk), f"{event.seminar.name} – {event.title}") for event in events]
            self.fields["event"].choices = [("", _("All events")), *choices]
        else:
            del self.fields["event"]

    def clean_sort(self) -> str:
        # The column headers' links make the sort; an unknown one (a stale or edited link) is the default.
        value = self.cleaned_data.get("sort") or ""
        return value if value.removeprefix("-") in SORT_KEYS else DEFAULT_SORT

    def clean(self):
        cleaned = super().clean()
        start_from, start_to = cleaned.get("start_from"), cleaned.get("start_to")
        if start_from and start_to and start_to < start_from:
            self.add_error("start_to", _("The last day must be on or after the first day."))
        return cleaned

    def filters(self) -> ReportFilters:
        """The checked filters (call after is_valid)."""
        data = self.cleaned_data
        sort = data.get("sort") or DEFAULT_SORT
        event = data.get("event")
        return ReportFilters(
            states=tuple(data.get("state") or ()),
            start_from=data.get("start_from"),
            start_to=data.get("start_to"),
            event_id=int(event) if event else None,
            search=data.get("q") or "",
            sort=sort.removeprefix("-"),
            descending=sort.startswith("-"),
        )
