# The centre's own days off, and the unit a legal basis's deadlines count in. Existing legal bases keep
# the behaviour they had: the default fills them with calendar hours.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0002_camera_code_pattern'),
    ]

    operations = [
        migrations.CreateModel(
            name='DayOff',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(unique=True, verbose_name='date')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('is_working_day', models.BooleanField(default=False, help_text='Tick for a day the centre works although it is a weekend day or a public holiday.', verbose_name='working day')),
            ],
            options={
                'verbose_name': 'centre day off',
                'verbose_name_plural': 'centre days off',
                'ordering': ['-date'],
            },
        ),
        migrations.AddField(
            model_name='legalbasis',
            name='deadline_unit',
            field=models.CharField(choices=[('calendar_hours', 'calendar hours'), ('working_hours', 'working hours'), ('working_days', 'working days')], default='calendar_hours', help_text="As the legal basis says. Calendar hours run day and night; working hours and working days count only working time (Monday to Friday in working hours, without public holidays and the centre's days off). A deadline in working days ends when working hours end on its last day.", max_length=20, verbose_name='deadlines counted in'),
        ),
        migrations.AlterField(
            model_name='legalbasis',
            name='deadline_hours_emergency',
            field=models.PositiveIntegerField(default=2, verbose_name='response deadline, emergency'),
        ),
        migrations.AlterField(
            model_name='legalbasis',
            name='deadline_hours_normal',
            field=models.PositiveIntegerField(default=120, verbose_name='response deadline, normal'),
        ),
        migrations.AlterField(
            model_name='legalbasis',
            name='deadline_hours_urgent',
            field=models.PositiveIntegerField(default=24, verbose_name='response deadline, urgent'),
        ),
    ]
