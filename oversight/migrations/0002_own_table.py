"""The report table and its constraint take this app's names; the content type follows, and with it the
permissions already granted on reports."""

from django.db import migrations, models


def content_type_follows(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label='oversight', model='report').exists():
        ContentType.objects.using(db).filter(app_label='audit', model='report').update(app_label='oversight')


def content_type_returns(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label='audit', model='report').exists():
        ContentType.objects.using(db).filter(app_label='oversight', model='report').update(app_label='audit')


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('oversight', '0001_initial'),
        ('audit', '0011_report_moves_to_oversight'),
    ]

    operations = [
        migrations.RemoveConstraint(model_name='report', name='audit_report_period_ordered'),
        migrations.AlterModelTable(name='report', table='oversight_report'),
        migrations.AddConstraint(
            model_name='report',
            constraint=models.CheckConstraint(
                condition=models.Q(('date_to__gte', models.F('date_from'))), name='oversight_report_period_ordered'
            ),
        ),
        migrations.RunPython(content_type_follows, content_type_returns),
    ]
