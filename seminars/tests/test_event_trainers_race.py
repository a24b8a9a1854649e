"""Two events saved at the same moment, each giving Tom the same hour, on PostgreSQL: the lock on the
trainer decides, so one save wins and the other is refused naming him (never both unseen)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from seminars.models import EventTrainer, SeminarEvent
from seminars.services.events import event_save
from seminars.tests.conftest import make_session
from seminars.tests.race import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
START = datetime(2030, 3, 2, 10, 0, tzinfo=UTC)


def assign_tom(event, seminar, editor, tom):
    session = event.sessions.get()
    row = {"id": session.pk, "start": START, "finish": START + timedelta(hours=1), "time_zone": "UTC"}
    data = {"name": event.name, "capacity": 10, "sessions": [row], "trainers": {tom.pk: EventTrainer.Role.TRAINER}}
    return lambda: event_save(event_or_none=event, seminar=seminar, data=data, actor=editor)


@pytest.mark.parametrize("attempt", range(3))
def test_two_saves_cannot_both_give_a_trainer_the_same_hour(seminar, editing_trainer, trainer, attempt):
    first, second = (SeminarEvent.objects.create(seminar=seminar, name=name) for name in ("Morning", "Also morning"))
    for event in (first, second):
        make_session(event, START)

    results = at_once(
        *(assign_tom(event, seminar, editing_trainer, trainer) for event in (first, second)),
        expected=(ValidationError,),
    )

    refused = [result for result in results if isinstance(result, ValidationError)]
    assert len(refused) == 1, results
    assert "Tom already runs" in str(refused[0].message_dict[f"trainers.{trainer.pk}"])
    assert EventTrainer.objects.filter(user=trainer).count() == 1
