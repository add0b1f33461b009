"""Oversight reports now belong to the oversight app (oversight.0001 takes the model over, table and all)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0010_verify_actions'),
        ('oversight', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Report')],
            database_operations=[],
        ),
    ]
