"""The CHECK constraints of the bounds, in a migration of their own: on PostgreSQL the rows
clamped by 0002 leave deferred trigger events that forbid an ALTER TABLE in the same transaction."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("seminars", "0002_input_bounds"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='room',
            constraint=models.CheckConstraint(condition=models.Q(('capacity__gte', 1), ('capacity__lte', 100000)), name='seminars_room_capacity_range'),
        ),
        migrations.AddConstraint(
            model_name='seminarevent',
            constraint=models.CheckConstraint(condition=models.Q(('capacity__gte', 1), ('capacity__lte', 100000)), name='seminars_event_capacity_range'),
        ),
        migrations.AddConstraint(
            model_name='seminarevent',
            constraint=models.CheckConstraint(condition=models.Q(('cancellation_cutoff_hours__lte', 8760)), name='seminars_event_cutoff_hours_range'),
        ),
    ]
